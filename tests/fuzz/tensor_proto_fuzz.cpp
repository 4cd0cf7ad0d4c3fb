// libFuzzer target: the ONNX TensorProto (.pb) reader of `ipusim run --input`
// (decodeTensorProto). An accepted tensor holds exactly the bytes its dtype and shape need.
// Only a TensorFileError naming the file may come out.
#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "sim/dtype.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/tensor_files.h"

// Protobuf would log every parse failure of a broken input to stderr, as ipusim's main
// does not let it (tools/main.cpp).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string source = "fuzz.pb";
  try {
    std::string name;
    const ipusim::HostTensor tensor = ipusim::cli::decodeTensorProto(bytes, source, &name);
    const uint64_t expected = static_cast<uint64_t>(ipusim::elementCount(tensor.shape)) *
                              ipusim::dtypeSize(tensor.dtype);
    if (tensor.data.size() != expected) __builtin_trap();
  } catch (const ipusim::cli::TensorFileError& e) {
    ipusim::fuzz::checkMessage("TensorProto", e.what(), source);
  }
  return 0;
}
