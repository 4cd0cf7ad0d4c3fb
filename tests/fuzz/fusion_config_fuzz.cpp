// libFuzzer target: the fusion YAML loader (loadFusionConfigText). The config's folder holds
// the seed models' names as empty files, so that `input_model` entries can resolve: the loader
// checks the files exist but does not read them. Only a CompileError naming the file may
// come out.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/fusion_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string configPath = [] {
    for (const char* model : {"model0.onnx", "model1.onnx", "model_int8.onnx", "temps_a.onnx", "temps_b.onnx"})
      ipusim::fuzz::writeScratchFile(model, "");
    return (ipusim::fuzz::scratchDir() / "config.yaml").string();
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const ipusim::FusionConfig config = ipusim::loadFusionConfigText(text, configPath);
    if (config.models.empty() || config.outputPath().empty()) __builtin_trap();
  } catch (const ipusim::CompileError& e) {
    ipusim::fuzz::checkMessage("fusion config", e.what(), configPath);
  }
  return 0;
}
