// Shape folding at import (compiler/passes/shape_folding.h): shape computations that ONNX
// shape inference cannot follow are evaluated at compile time so every tensor is static.
#include <doctest/doctest.h>

#include "layout_test_support.h"

using namespace ipusim;
using namespace ipusim::layout_test;

TEST_CASE("a shape built from Shape, Slice, Neg and ConstantOfShape becomes static") {
  // LayerNormalization's function body for axis -1: the reduced shape [2, 3, 1] of X.
  Model m;
  m.input("X", kFloat, {2, 3, 4});
  m.input("T", kFloat, {6});
  m.initializer<int64_t>("zero", kInt64, {1}, {0});
  m.initializer<int64_t>("axis", kInt64, {1}, {-1});
  m.node("Shape", {"X"}, {"S"});
  m.node("Slice", {"S", "zero", "axis"}, {"P"});
  m.node("Neg", {"axis"}, {"N"});  // ONNX data propagation does not follow Neg
  m.node("ConstantOfShape", {"N"}, {"C"}).tensor<int64_t>("value", kInt64, {1}, {1});
  m.node("Concat", {"P", "C"}, {"R"}).integer("axis", 0);
  m.node("Reshape", {"T", "R"}, {"Y"});
  m.outputOfInferredShape("Y", kFloat, 3);  // unknown until R is folded
  const Executable exe = m.compile("shape_folding.onnx");
  CHECK(exe.findStream("Y")->shape == Shape{2, 3, 1});
  CHECK(exe.computeSets.empty());  // the shape work is all done at compile time
  const auto y = valuesOf<float>(run(exe, {{"X", bytesOf(iota(24))}, {"T", bytesOf(iota(6))}}).at("Y"));
  CHECK(y == iota(6));
}
