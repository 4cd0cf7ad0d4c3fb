#include <doctest/doctest.h>

#include <onnx/defs/schema.h>

#include <set>

#include "compiler/passes/function_expansion.h"

using namespace ipusim;

namespace {

onnx::ModelProto celuModel(float alpha) {
  onnx::ModelProto model;
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  auto* node = graph->add_node();
  node->set_op_type("Celu");
  node->set_name("celu");
  node->add_input("X");
  node->add_output("Y");
  auto* attr = node->add_attribute();
  attr->set_name("alpha");
  attr->set_type(onnx::AttributeProto::FLOAT);
  attr->set_f(alpha);
  auto* x = graph->add_input();
  x->set_name("X");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return model;
}

}  // namespace

TEST_CASE("a function op without a lowering becomes its ONNX function body") {
  onnx::ModelProto model = celuModel(2.0f);
  const bool expanded = expandFunctionOps(model, 13, [](const std::string& op) { return op != "Celu"; });
  REQUIRE(expanded);
  const auto& graph = model.graph();
  REQUIRE(graph.node_size() > 1);
  std::set<std::string> ops, produced;
  bool alphaCarried = false;
  for (const auto& node : graph.node()) {
    ops.insert(node.op_type());
    CHECK(node.name().rfind("celu/", 0) == 0);
    for (const auto& out : node.output()) produced.insert(out);
    for (const auto& attr : node.attribute()) {
      CHECK(attr.ref_attr_name().empty());  // every reference resolved
      if (attr.has_t() && attr.t().float_data_size() == 1 && attr.t().float_data(0) == 2.0f) alphaCarried = true;
      if (attr.type() == onnx::AttributeProto::FLOAT && attr.f() == 2.0f) alphaCarried = true;
    }
  }
  CHECK_FALSE(ops.count("Celu"));
  CHECK(ops.count("Elu"));
  CHECK(produced.count("Y"));           // the node's output keeps its name
  CHECK(alphaCarried);                  // alpha = 2 reached the body
  for (const auto& name : produced)
    if (name != "Y") CHECK(name.rfind("celu/", 0) == 0);  // intermediates are prefixed
}

TEST_CASE("ops with a lowering, or without a function, are left alone") {
  onnx::ModelProto model = celuModel(1.0f);
  CHECK_FALSE(expandFunctionOps(model, 13, [](const std::string&) { return true; }));
  CHECK(model.graph().node(0).op_type() == "Celu");
  model.mutable_graph()->mutable_node(0)->set_op_type("Relu");
  CHECK_FALSE(expandFunctionOps(model, 13, [](const std::string&) { return false; }));
}

TEST_CASE("an attribute the node leaves unset takes the function op's schema default") {
  // MeanVarianceNormalization defaults axes to [0, 2, 3]; its body passes them to ReduceMean.
  onnx::ModelProto model;
  model.add_opset_import()->set_version(13);
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type("MeanVarianceNormalization");
  node->add_input("X");
  node->add_output("Y");
  REQUIRE(expandFunctionOps(model, 13, [](const std::string& op) { return op != "MeanVarianceNormalization"; }));
  int reduceMeans = 0;
  for (const auto& n : model.graph().node()) {
    if (n.op_type() != "ReduceMean") continue;
    ++reduceMeans;
    bool hasAxes = false;
    for (const auto& attr : n.attribute()) {
      if (attr.name() != "axes") continue;
      hasAxes = true;
      CHECK(std::vector<int64_t>(attr.ints().begin(), attr.ints().end()) == std::vector<int64_t>{0, 2, 3});
    }
    CHECK(hasAxes);
  }
  CHECK(reduceMeans > 0);
}
