// libFuzzer target: the ONNX importer up to the compiled executable (importModel, then
// compileModel: checker, shape inference, function expansion, constant folding, lowering,
// memory planning, finalisation, verifyExecutable). Each input is a serialised ModelProto,
// written to a scratch file (the compiler reads paths).
//
// The compiler itself refuses tensors larger than the whole IPU; the fuzz target refuses
// far smaller ones (kMaxElements) and big graphs before compiling, so that each run stays
// fast and the fuzzer spends its time on many small models instead of timing out on one
// big one. Only the compiler's own errors (CompileError, and SimError from the machine
// model's checks) may come out.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>

#include "compiler/compiler.h"
#include "compiler/import/onnx_import.h"
#include "sim/error.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr int64_t kMaxElements = 1 << 14;  // per tensor
constexpr int kMaxNodes = 64;

bool smallEnough(const ipusim::ImportedModel& model) {
  if (model.proto.graph().node_size() > kMaxNodes) return false;
  for (const auto& [name, info] : model.tensors) {
    int64_t elements = 1;
    for (int64_t dim : info.shape) {
      if (dim != 0 && elements > kMaxElements / dim) return false;
      elements *= dim;
    }
    if (elements > kMaxElements) return false;
  }
  return true;
}

}  // namespace

// Protobuf would log every parse failure of a broken input to stderr, as ipusim's main
// does not let it (tools/main.cpp).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ipusim::ModelOptions options;
  options.modelPath = ipusim::fuzz::writeScratchFile(
      "fuzz.onnx", std::string_view(reinterpret_cast<const char*>(data), size));
  // Half the inputs compile in fp16 (the precision pass), picked by the size's low bit.
  if (size % 2 == 1) options.precision = "fp16";
  try {
    if (!smallEnough(ipusim::importModel(options))) return 0;
    const ipusim::Executable exe = ipusim::compileModel(options);
    ipusim::verifyExecutable(exe);
  } catch (const ipusim::CompileError& e) {
    if (std::string_view(e.what()).empty()) __builtin_trap();
  } catch (const ipusim::SimError& e) {
    if (std::string_view(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
