#include "compiler/lower_model.h"

#include <algorithm>

#include "compiler/graph/op_graph.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/passes/constant_folding.h"

namespace ipusim {

namespace {

std::string dtypeList(const std::vector<DType>& dtypes) {
  std::string out;
  for (DType d : dtypes) out += (out.empty() ? "" : ", ") + std::string(dtypeName(d));
  return out;
}

}  // namespace

LoweredModel lowerModel(const ImportedModel& model, const ModelOptions& options, GraphBuilder& builder,
                        const AnchorNaming& naming) {
  const auto& graph = model.proto.graph();
  const auto& registry = LoweringRegistry::instance();
  LoweredModel lowered;
  ModelValues values;
  values.prefix = naming.variablePrefix;
  values.constants = model.constants;

  for (size_t j = 0; j < model.inputs.size(); ++j) {
    const std::string& name = model.inputs[j];
    const TensorInfo& info = model.tensors.at(name);
    const std::string anchor =
        naming.positionalInputs ? naming.variablePrefix + "stream" + std::to_string(j) : name;
    uint32_t var = builder.addVariable(naming.variablePrefix + name, info.dtype, info.shape);
    builder.streamCopy(builder.addStream(anchor, StreamDirection::HostToDevice, var, info.shape));
    values.lowered[name] = {var, info.dtype, info.shape};
    lowered.inputAnchors.push_back(anchor);
    if (naming.positionalInputs) {
      // An input named like another input's anchor ("stream1" at position 0) would make
      // "graph0/stream1" mean two inputs: the anchor keeps its name, that alias is dropped.
      const std::string alias = naming.variablePrefix + name;
      bool namesOtherAnchor = false;
      for (size_t k = 0; k < model.inputs.size(); ++k)
        namesOtherAnchor |= k != j && alias == naming.variablePrefix + "stream" + std::to_string(k);
      if (!namesOtherAnchor) lowered.aliases.emplace_back(alias, anchor);
    }
  }

  OpGraph opGraph(graph);
  const std::vector<bool> live = opGraph.liveNodes(model.outputs);
  for (int n : opGraph.topologicalOrder()) {
    if (!live[static_cast<size_t>(n)]) continue;  // dead-node removal
    const auto& node = graph.node(n);
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      throw CompileError(model.path + ": " + node.op_type() + " node '" + node.name() + "' is in domain '" +
                         node.domain() + "', which is not supported");
    }
    const LoweringEntry* entry = registry.find(node.op_type(), model.opset);
    if (!entry) {
      throw CompileError(model.path + ": op " + node.op_type() + " (opset " + std::to_string(model.opset) +
                         ") is not supported (node '" + node.name() + "')");
    }
    LoweringContext ctx(builder, model, values, node, n);
    if (ctx.hasInput(0)) {
      DType dtype = ctx.inputInfo(0).dtype;
      if (std::find(entry->dtypes.begin(), entry->dtypes.end(), dtype) == entry->dtypes.end()) {
        throw CompileError(ctx.where() + ": element type " + std::string(dtypeName(dtype)) +
                           " is not supported (supported: " + dtypeList(entry->dtypes) + ")");
      }
    }
    if (tryFoldConstant(model, values, node, n, *entry, builder.target(), options.maxTensorSize)) continue;
    entry->lower(ctx);
  }

  for (const std::string& name : model.outputs) {
    const std::string anchor = naming.variablePrefix + name;
    const Shape& shape = model.tensors.at(name).shape;
    uint32_t var;
    if (auto it = values.lowered.find(name); it != values.lowered.end()) {
      var = it->second.var;
    } else if (auto c = values.constants.find(name); c != values.constants.end()) {
      var = builder.addConstant(naming.variablePrefix + name, c->second);
    } else {
      throw CompileError(model.path + ": output '" + name + "' is never computed");
    }
    builder.streamCopy(builder.addStream(anchor, StreamDirection::DeviceToHost, var, shape));
    lowered.outputAnchors.push_back(anchor);
  }
  lowered.program = builder.takeSequence();
  return lowered;
}

}  // namespace ipusim
