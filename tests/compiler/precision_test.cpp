#include <doctest/doctest.h>

#include "compiler/passes/precision.h"

using namespace ipusim;

namespace {

onnx::TensorProto floatTensor(const std::string& name, std::vector<float> values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.add_dims(static_cast<int64_t>(values.size()));
  for (float v : values) t.add_float_data(v);
  return t;
}

}  // namespace

TEST_CASE("fp16 converts float weights, but Resize scales stay float as ONNX requires") {
  onnx::ModelProto model;
  auto* graph = model.mutable_graph();
  auto* x = graph->add_input();
  x->set_name("X");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  *graph->add_initializer() = floatTensor("W", {1.0f, 2.0f});
  *graph->add_initializer() = floatTensor("scales", {1.0f, 1.0f, 2.0f, 2.0f});
  auto* resize = graph->add_node();
  resize->set_op_type("Resize");
  resize->add_input("X");
  resize->add_input("");
  resize->add_input("scales");
  resize->add_output("Y");

  convertFloatToHalf(model);
  CHECK(graph->input(0).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT16);
  CHECK(graph->initializer(0).data_type() == onnx::TensorProto::FLOAT16);
  CHECK(graph->initializer(0).raw_data().size() == 4);
  CHECK(graph->initializer(1).data_type() == onnx::TensorProto::FLOAT);
  CHECK(graph->initializer(1).float_data_size() == 4);
}
