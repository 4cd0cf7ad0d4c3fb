#include <doctest/doctest.h>

#include <fstream>

#include "compiler/import/onnx_import.h"
#include "test_support.h"

using namespace ipusim;
using ipusim::test::modelPath;

TEST_CASE("input_shape specs parse, bad ones are named") {
  auto [name, shape] = parseInputShape("X=1,2");
  CHECK(name == "X");
  CHECK(shape == Shape{1, 2});
  CHECK(parseInputShape("in:0=7").second == Shape{7});
  CHECK_THROWS_WITH_AS(parseInputShape("X"), "input_shape 'X' is not of the form NAME=D0,D1,...", CompileError);
  CHECK_THROWS_WITH_AS(parseInputShape("X=1,a"),
                       "input_shape 'X=1,a': 'a' is not a dimension (a non-negative integer)", CompileError);
  CHECK_THROWS_AS(parseInputShape("X=-1"), CompileError);
  CHECK_THROWS_AS(parseInputShape("=1"), CompileError);
}

TEST_CASE("import infers static shapes for every tensor") {
  ModelOptions options;
  options.modelPath = modelPath("model0.onnx");
  ImportedModel m = importModel(options);
  CHECK(m.opset == 13);
  CHECK(m.inputs == std::vector<std::string>{"X", "Y"});
  CHECK(m.outputs == std::vector<std::string>{"O"});
  CHECK(m.tensors.at("S").shape == Shape{1, 2});
  CHECK(m.tensors.at("O").shape == Shape{2});
  CHECK(m.constants.at("shape").toInts() == std::vector<int64_t>{2});
}

TEST_CASE("a dynamic input needs input_shape; with it, the model is static") {
  ModelOptions options;
  options.modelPath = modelPath("dynamic.onnx");
  CHECK_THROWS_WITH_AS(importModel(options),
                       doctest::Contains("tensor 'X' has dynamic dimension 'N'; give its shape with input_shape"),
                       CompileError);
  options.inputShapes = {"X=3,2"};
  ImportedModel m = importModel(options);
  CHECK(m.tensors.at("O").shape == Shape{3, 2});
}

TEST_CASE("bad input_shape overrides name the model and the input") {
  ModelOptions options;
  options.modelPath = modelPath("model0.onnx");
  options.inputShapes = {"Z=1,2"};
  CHECK_THROWS_WITH_AS(importModel(options), doctest::Contains("input_shape 'Z=1,2' names no input (inputs: X, Y)"),
                       CompileError);
  options.inputShapes = {"X=1,2,3"};
  CHECK_THROWS_WITH_AS(importModel(options), doctest::Contains("has rank 3 but input 'X' has rank 2"), CompileError);
  options.inputShapes = {"X=1,5"};
  CHECK_THROWS_WITH_AS(importModel(options), doctest::Contains("conflicts with input 'X' dimension 1 = 2"),
                       CompileError);
}

TEST_CASE("missing and non-ONNX files are clear errors") {
  ModelOptions options;
  options.modelPath = "/nonexistent/model.onnx";
  CHECK_THROWS_WITH_AS(importModel(options), "/nonexistent/model.onnx: no such model file", CompileError);
  const std::string junk = std::string(IPUSIM_BINARY_DIR) + "/junk_model.onnx";
  std::ofstream(junk) << "this is not protobuf \xff\xff\xff";
  options.modelPath = junk;
  CHECK_THROWS_WITH_AS(importModel(options), doctest::Contains("not a valid ONNX model"), CompileError);
}

TEST_CASE("fp16 precision turns float inputs, outputs and weights into half") {
  ModelOptions options;
  options.modelPath = modelPath("folding.onnx");
  options.precision = "fp16";
  ImportedModel m = importModel(options);
  CHECK(m.tensors.at("X").dtype == DType::Float16);
  CHECK(m.tensors.at("O").dtype == DType::Float16);
  CHECK(m.constants.at("A").dtype == DType::Float16);
  CHECK(m.constants.at("A").toInts() == std::vector<int64_t>{1, 2, 3, 4});
  options.precision = "fp8";
  CHECK_THROWS_WITH_AS(importModel(options), doctest::Contains("precision 'fp8' is not supported"), CompileError);
}
