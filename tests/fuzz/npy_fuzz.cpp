// libFuzzer target: the .npy reader of `ipusim run --input` (decodeNpy). What it accepts must
// survive a round trip through the writer unchanged. Only a TensorFileError naming the file
// may come out.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_support.h"
#include "tools/tensor_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string source = "fuzz.npy";
  try {
    const ipusim::HostTensor tensor = ipusim::cli::decodeNpy(bytes, source);
    const ipusim::HostTensor again = ipusim::cli::decodeNpy(ipusim::cli::encodeNpy(tensor), source);
    if (again.dtype != tensor.dtype || again.shape != tensor.shape || again.data != tensor.data)
      __builtin_trap();
  } catch (const ipusim::cli::TensorFileError& e) {
    ipusim::fuzz::checkMessage("npy", e.what(), source);
  }
  return 0;
}
