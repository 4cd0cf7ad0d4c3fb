#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "compiler/fusion_config.h"
#include "test_support.h"

using namespace ipusim;
using ipusim::test::modelPath;

namespace {
// Writes a YAML next to the generated models (so its relative paths resolve) and loads it.
FusionConfig loadText(const std::string& name, const std::string& text) {
  const std::string path = modelPath(name);
  std::ofstream(path) << text;
  return loadFusionConfig(path);
}
}  // namespace

TEST_CASE("the seed config of DESIGN.md loads unchanged") {
  FusionConfig config = loadFusionConfig(modelPath("config.yaml"));
  CHECK(config.outputModel == "executable");
  CHECK(config.outputPath() == std::filesystem::path(IPUSIM_TEST_MODELS) / "executable.popef");
  REQUIRE(config.models.size() == 2);
  CHECK(config.models[0].modelPath == modelPath("model0.onnx"));
  CHECK(config.models[0].inputShapes == std::vector<std::string>{"X=1,2", "Y=1,2"});
  CHECK(config.models[0].precision == "fp32");
  CHECK(config.models[0].ipuVersion == "ipu21");
  CHECK(config.models[0].maxTensorSize == -1);
  CHECK(config.models[1].precision == "fp16");
  CHECK(config.models[1].inputShapes == std::vector<std::string>{"X=1,1"});
}

TEST_CASE("global keys apply to every model; entries override them") {
  FusionConfig config = loadText("cfg_global.yaml",
                                 "precision: fp16\nmax_tensor_size: 64\nipu_version: ipu2\nmodel_fusion:\n"
                                 "  - input_model: model0.onnx\n  - input_model: model1.onnx\n    precision: fp32\n");
  CHECK(config.models[0].precision == "fp16");
  CHECK(config.models[0].maxTensorSize == 64);
  CHECK(config.models[0].ipuVersion == "ipu2");
  CHECK(config.models[1].precision == "fp32");
}

TEST_CASE("config faults name the key and the file") {
  CHECK_THROWS_WITH_AS(loadText("cfg_bad1.yaml", "model_fusion:\n  - input_model: model0.onnx\n    colour: red\n"),
                       doctest::Contains("cfg_bad1.yaml: model_fusion[0]: unknown key 'colour'"), CompileError);
  CHECK_THROWS_WITH_AS(loadText("cfg_bad2.yaml", "outptu_dir: x\nmodel_fusion:\n  - input_model: model0.onnx\n"),
                       doctest::Contains("cfg_bad2.yaml: unknown key 'outptu_dir'"), CompileError);
  CHECK_THROWS_WITH_AS(loadText("cfg_bad3.yaml", "model_fusion:\n  - input_model: nothere.onnx\n"),
                       doctest::Contains("model_fusion[0].input_model: model file"), CompileError);
  CHECK_THROWS_WITH_AS(loadText("cfg_bad4.yaml", "model_fusion:\n  - input_model: model0.onnx\n    precision: int4\n"),
                       doctest::Contains("model_fusion[0].precision: precision 'int4' is not supported"), CompileError);
  CHECK_THROWS_WITH_AS(loadText("cfg_bad5.yaml", "model_fusion: []\n"),
                       doctest::Contains("model_fusion: expected a non-empty list"), CompileError);
  CHECK_THROWS_WITH_AS(loadText("cfg_bad6.yaml", "model_fusion: [\n"), doctest::Contains("cfg_bad6.yaml: line"),
                       CompileError);
  CHECK_THROWS_WITH_AS(loadText("cfg_bad7.yaml", "ipu_version: ipu9\nmodel_fusion:\n  - input_model: model0.onnx\n"),
                       doctest::Contains("ipu_version 'ipu9' is not known"), CompileError);
  CHECK_THROWS_WITH_AS(loadText("cfg_bad8.yaml", "model_fusion:\n  - input_model: model0.onnx\n    input_shape: ['X=1;2']\n"),
                       doctest::Contains("model_fusion[0].input_shape"), CompileError);
  CHECK_THROWS_WITH_AS(loadFusionConfig(modelPath("no_such.yaml")), doctest::Contains("no such config file"),
                       CompileError);
}
