#include "compiler/passes/constant_folding.h"

#include "compiler/memory/memory_planner.h"
#include "sim/engine.h"

namespace ipusim {

namespace {

// Ops whose value must not be fixed at compile time.
bool isNondeterministic(const std::string& op) {
  return op == "RandomNormal" || op == "RandomUniform" || op == "RandomNormalLike" || op == "RandomUniformLike" ||
         op == "Multinomial" || op == "Bernoulli";
}

}  // namespace

bool tryFoldConstant(const ImportedModel& model, ModelValues& values, const onnx::NodeProto& node, int nodeIndex,
                     const LoweringEntry& lowering, const Target& target, int64_t maxTensorSize) {
  if (node.input_size() == 0 || isNondeterministic(node.op_type())) return false;
  for (const auto& in : node.input())
    if (!in.empty() && !values.constants.count(in)) return false;
  for (const auto& out : node.output()) {
    if (out.empty()) continue;
    auto it = model.tensors.find(out);
    if (it == model.tensors.end()) return false;
    const int64_t bytes = elementCount(it->second.shape) * static_cast<int64_t>(dtypeSize(it->second.dtype));
    if (maxTensorSize >= 0 && bytes > maxTensorSize) return false;
  }

  // Lower the node alone, with its constant inputs, and stream every output back.
  GraphBuilder scratch(target);
  scratch.beginScope();
  ModelValues scratchValues;
  for (const auto& in : node.input())
    if (!in.empty()) scratchValues.constants[in] = values.constants.at(in);
  LoweringContext ctx(scratch, model, scratchValues, node, nodeIndex);
  lowering.lower(ctx);

  std::vector<std::string> streamed;
  for (const auto& out : node.output()) {
    if (out.empty() || scratchValues.constants.count(out)) continue;  // known without running
    const TensorInfo& info = model.tensors.at(out);
    scratch.streamCopy(scratch.addStream(out, StreamDirection::DeviceToHost, scratchValues.lowered.at(out).var, info.shape));
    streamed.push_back(out);
  }
  Program main = scratch.takeSequence();
  scratch.endScope();
  if (!streamed.empty()) {
    const BuiltGraph& graph = scratch.graph();
    auto exe = std::make_shared<const Executable>(finalizeExecutable(graph, planMemory(graph), std::move(main), {}));
    Engine engine(1);
    engine.load(exe);
    HostBuffers outputs;
    engine.run({}, outputs);
    for (const auto& out : streamed) {
      const TensorInfo& info = model.tensors.at(out);
      values.constants[out] = ConstTensor{info.dtype, info.shape, std::move(outputs.at(out))};
    }
  }
  for (const auto& out : node.output())
    if (!out.empty() && scratchValues.constants.count(out)) values.constants[out] = scratchValues.constants.at(out);
  return true;
}

}  // namespace ipusim
