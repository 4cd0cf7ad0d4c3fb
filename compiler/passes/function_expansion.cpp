#include "compiler/passes/function_expansion.h"

#include <onnx/defs/schema.h>

#include <map>

namespace ipusim {

namespace {

// Nested functions are rare and shallow; a bound stops a schema that expands into itself.
constexpr int kMaxExpansionRounds = 8;

// The types shape inference found, by tensor name.
std::map<std::string, onnx::TypeProto> knownTypes(const onnx::GraphProto& graph) {
  std::map<std::string, onnx::TypeProto> types;
  for (const auto& vi : graph.input()) types[vi.name()] = vi.type();
  for (const auto& vi : graph.value_info()) types[vi.name()] = vi.type();
  for (const auto& vi : graph.output()) types[vi.name()] = vi.type();
  for (const auto& init : graph.initializer()) {
    onnx::TypeProto t;
    t.mutable_tensor_type()->set_elem_type(init.data_type());
    auto* shape = t.mutable_tensor_type()->mutable_shape();
    for (int64_t d : init.dims()) shape->add_dim()->set_dim_value(d);
    types[init.name()] = t;
  }
  return types;
}

// Fills `body` with the function body of `node` and returns its schema, or null when the
// op has none.
const onnx::OpSchema* functionBody(const onnx::NodeProto& node, int64_t opset,
                                   const std::map<std::string, onnx::TypeProto>& types, onnx::FunctionProto& body) {
  const onnx::OpSchema* schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(opset), node.domain());
  if (!schema) return nullptr;
  if (schema->HasContextDependentFunction()) {
    std::vector<onnx::TypeProto> inputTypes;
    for (const auto& in : node.input()) {
      auto it = types.find(in);
      inputTypes.push_back(it == types.end() ? onnx::TypeProto() : it->second);
    }
    onnx::FunctionBodyBuildContextImpl context(node, inputTypes);
    return schema->BuildContextDependentFunction(context, body) ? schema : nullptr;
  }
  if (schema->HasFunction() && schema->GetFunction()) {
    body = *schema->GetFunction();
    return schema;
  }
  return nullptr;
}

// Appends `body`'s nodes to `graph` as the expansion of `node`: formal inputs and outputs
// become the node's, other tensors get `prefix`, attribute references take the node's
// values, or the function op's schema default when the node does not set them (an unset
// reference without a default is dropped, so the body op's own default applies).
void inlineBody(const onnx::NodeProto& node, const onnx::OpSchema& schema, const onnx::FunctionProto& body,
                const std::string& prefix, onnx::GraphProto& graph) {
  std::map<std::string, std::string> rename;
  for (int i = 0; i < body.input_size(); ++i) rename[body.input(i)] = i < node.input_size() ? node.input(i) : "";
  for (int i = 0; i < body.output_size(); ++i) rename[body.output(i)] = i < node.output_size() ? node.output(i) : "";
  auto renamed = [&](const std::string& name) {
    if (name.empty()) return name;
    auto it = rename.find(name);
    return it != rename.end() ? it->second : prefix + name;
  };
  std::map<std::string, const onnx::AttributeProto*> nodeAttributes;
  for (const auto& [name, attr] : schema.attributes())
    if (attr.default_value.type() != onnx::AttributeProto::UNDEFINED) nodeAttributes[name] = &attr.default_value;
  for (const auto& attr : node.attribute()) nodeAttributes[attr.name()] = &attr;

  int index = 0;
  for (const auto& bodyNode : body.node()) {
    onnx::NodeProto* out = graph.add_node();
    *out = bodyNode;
    out->set_name(prefix + (bodyNode.name().empty() ? std::to_string(index) : bodyNode.name()));
    for (auto& in : *out->mutable_input()) in = renamed(in);
    for (auto& o : *out->mutable_output()) o = renamed(o);
    out->clear_attribute();
    for (const auto& attr : bodyNode.attribute()) {
      if (attr.ref_attr_name().empty()) {
        *out->add_attribute() = attr;
        continue;
      }
      auto it = nodeAttributes.find(attr.ref_attr_name());
      if (it == nodeAttributes.end()) continue;
      onnx::AttributeProto* copy = out->add_attribute();
      *copy = *it->second;
      copy->set_name(attr.name());
    }
    ++index;
  }
}

}  // namespace

bool expandFunctionOps(onnx::ModelProto& model, int64_t opset,
                       const std::function<bool(const std::string& opType)>& hasLowering) {
  bool expandedAny = false;
  auto* graph = model.mutable_graph();
  for (int round = 0; round < kMaxExpansionRounds; ++round) {
    const auto types = knownTypes(*graph);
    onnx::GraphProto expanded;
    bool changed = false;
    int counter = 0;
    for (const auto& node : graph->node()) {
      onnx::FunctionProto body;
      const bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
      const onnx::OpSchema* schema = nullptr;
      if (defaultDomain && !hasLowering(node.op_type()) && (schema = functionBody(node, opset, types, body))) {
        const std::string prefix =
            (node.name().empty() ? node.op_type() + "_" + std::to_string(counter) : node.name()) + "/";
        inlineBody(node, *schema, body, prefix, expanded);
        changed = true;
      } else {
        *expanded.add_node() = node;
      }
      ++counter;
    }
    if (!changed) break;
    graph->mutable_node()->Swap(expanded.mutable_node());
    expandedAny = true;
  }
  return expandedAny;
}

}  // namespace ipusim
