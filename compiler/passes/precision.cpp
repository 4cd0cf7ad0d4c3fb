#include "compiler/passes/precision.h"

#include <cstring>
#include <map>
#include <set>
#include <string>

#include "sim/half.h"

namespace ipusim {

namespace {

void convertTensor(onnx::TensorProto& t) {
  if (t.data_type() != onnx::TensorProto::FLOAT) return;
  std::vector<float> values;
  if (t.has_raw_data()) {
    values.resize(t.raw_data().size() / sizeof(float));
    // Guarded: memcpy from or to a null pointer is undefined even for 0 bytes, and a tensor
    // with under 4 bytes of raw data has no buffer (found by fuzz_onnx; the import then
    // reports the size mismatch).
    if (!values.empty()) std::memcpy(values.data(), t.raw_data().data(), values.size() * sizeof(float));
  } else {
    values.assign(t.float_data().begin(), t.float_data().end());
  }
  std::string raw(values.size() * 2, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t h = floatToHalf(values[i]);
    std::memcpy(raw.data() + i * 2, &h, 2);
  }
  t.clear_float_data();
  t.set_data_type(onnx::TensorProto::FLOAT16);
  t.set_raw_data(raw);
}

void convertValueInfo(onnx::ValueInfoProto& vi) {
  if (!vi.type().has_tensor_type()) return;
  auto* tt = vi.mutable_type()->mutable_tensor_type();
  if (tt->elem_type() == onnx::TensorProto::FLOAT) tt->set_elem_type(onnx::TensorProto::FLOAT16);
}

void convertNode(onnx::NodeProto& node) {
  for (auto& attr : *node.mutable_attribute()) {
    if (attr.has_t()) convertTensor(*attr.mutable_t());
    if (node.op_type() == "Cast" && attr.name() == "to" && attr.i() == onnx::TensorProto::FLOAT) {
      attr.set_i(onnx::TensorProto::FLOAT16);
    }
  }
  if (node.op_type() != "Constant") return;
  // value_float / value_floats make float32 constants: rewrite them as float16 tensors.
  for (auto& attr : *node.mutable_attribute()) {
    if (attr.name() != "value_float" && attr.name() != "value_floats") continue;
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::FLOAT);
    if (attr.name() == "value_float") {
      t.add_float_data(attr.f());
    } else {
      t.add_dims(attr.floats_size());
      for (float f : attr.floats()) t.add_float_data(f);
    }
    convertTensor(t);
    attr.Clear();
    attr.set_name("value");
    attr.set_type(onnx::AttributeProto::TENSOR);
    *attr.mutable_t() = t;
  }
}

// Inputs whose ONNX type is tensor(float) whatever the data's type: they stay float32.
const std::map<std::string, int> kFloatOnlyInputs = {{"Resize", 2}, {"Upsample", 1}};

std::set<std::string> floatOnlyTensors(const onnx::GraphProto& graph) {
  std::set<std::string> names;
  for (const auto& node : graph.node()) {
    auto it = kFloatOnlyInputs.find(node.op_type());
    if (it != kFloatOnlyInputs.end() && it->second < node.input_size()) names.insert(node.input(it->second));
  }
  return names;
}

}  // namespace

void convertFloatToHalf(onnx::ModelProto& model) {
  auto* graph = model.mutable_graph();
  const std::set<std::string> keep = floatOnlyTensors(*graph);
  for (auto& vi : *graph->mutable_input())
    if (!keep.count(vi.name())) convertValueInfo(vi);
  for (auto& vi : *graph->mutable_output()) convertValueInfo(vi);
  for (auto& init : *graph->mutable_initializer())
    if (!keep.count(init.name())) convertTensor(init);
  for (auto& node : *graph->mutable_node())
    if (node.output_size() != 1 || !keep.count(node.output(0))) convertNode(node);
  graph->clear_value_info();  // re-inferred with the new types
}

}  // namespace ipusim
