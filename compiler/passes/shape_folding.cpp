#include "compiler/passes/shape_folding.h"

#include <onnx/shape_inference/implementation.h>

#include <map>
#include <optional>

#include "compiler/import/onnx_import.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/passes/constant_folding.h"
#include "sim/error.h"

namespace ipusim {

namespace {

// Enough for chains like Shape -> Slice -> Neg -> ConstantOfShape -> Concat -> Reshape.
constexpr int kMaxRounds = 16;

std::optional<TensorInfo> staticInfo(const onnx::ValueInfoProto& vi) {
  if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return std::nullopt;
  TensorInfo info;
  for (const auto& dim : vi.type().tensor_type().shape().dim()) {
    if (!dim.has_dim_value() || dim.dim_value() < 0) return std::nullopt;
    info.shape.push_back(dim.dim_value());
  }
  try {
    info.dtype = dtypeFromOnnx(vi.type().tensor_type().elem_type(), vi.name());
  } catch (const CompileError&) {
    return std::nullopt;  // a type the IPU lacks: nothing to fold here
  }
  return info;
}

// The static type and shape of every tensor that has one; `allStatic` when all do.
struct GraphShapes {
  std::map<std::string, TensorInfo> known;
  bool allStatic = true;
};

GraphShapes collectShapes(const onnx::GraphProto& graph, const std::map<std::string, ConstTensor>& constants) {
  GraphShapes shapes;
  for (const auto& [name, value] : constants) shapes.known[name] = {value.dtype, value.shape};
  auto add = [&](const onnx::ValueInfoProto& vi) {
    if (shapes.known.count(vi.name())) return;
    if (auto info = staticInfo(vi)) {
      shapes.known[vi.name()] = *info;
    } else {
      shapes.allStatic = false;
    }
  };
  for (const auto& vi : graph.input()) add(vi);
  for (const auto& vi : graph.value_info()) add(vi);
  for (const auto& vi : graph.output()) add(vi);
  for (const auto& node : graph.node())
    for (const auto& out : node.output())
      if (!out.empty() && !shapes.known.count(out)) shapes.allStatic = false;
  return shapes;
}

onnx::TensorProto toProto(const std::string& name, const ConstTensor& value) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(onnxFromDType(value.dtype));
  for (int64_t d : value.shape) proto.add_dims(d);
  proto.set_raw_data(std::string(value.bytes.begin(), value.bytes.end()));
  return proto;
}

// Shape and Size only need their input's static shape; Constant needs nothing.
bool needsNoValues(const onnx::NodeProto& node, const GraphShapes& shapes) {
  if (node.op_type() == "Constant") return true;
  return (node.op_type() == "Shape" || node.op_type() == "Size") && node.input_size() == 1 &&
         shapes.known.count(node.input(0));
}

// Evaluates the node if its value is known now; its outputs then join `values.constants`.
bool foldNode(const ImportedModel& scratch, ModelValues& values, const onnx::NodeProto& node, int index,
              const LoweringEntry& entry, const Target& target, const GraphShapes& shapes, int64_t maxTensorSize) {
  for (const auto& out : node.output()) {
    if (out.empty()) continue;
    auto it = shapes.known.find(out);
    if (it == shapes.known.end()) return false;  // not yet inferable
    // ONNX 1.12's data propagation rejects an empty initializer feeding Concat (it reads
    // the empty value as rank 0); empty values are known to inference anyway.
    if (elementCount(it->second.shape) == 0) return false;
  }
  try {
    if (needsNoValues(node, shapes)) {
      GraphBuilder builder(target);
      builder.beginScope();
      ModelValues local;
      LoweringContext ctx(builder, scratch, local, node, index);
      entry.lower(ctx);
      for (const auto& out : node.output()) {
        if (out.empty()) continue;
        auto it = local.constants.find(out);
        if (it == local.constants.end()) return false;  // it would need the device
        values.constants[out] = it->second;
      }
      return true;
    }
    for (const auto& in : node.input())
      if (!in.empty() && !values.constants.count(in)) return false;
    return tryFoldConstant(scratch, values, node, index, entry, target, maxTensorSize);
  } catch (const CompileError&) {
    return false;  // lowering reports it later, with the full model's context
  } catch (const SimError&) {
    return false;
  }
}

}  // namespace

void foldToStaticShapes(onnx::ModelProto& model, int64_t opset, const ModelOptions& options) {
  const Target target = targetPreset(options.ipuVersion);
  const auto& registry = LoweringRegistry::instance();
  onnx::ShapeInferenceOptions inference(/*check_type=*/true, /*error_mode=*/1, /*data_prop=*/true);
  for (int round = 0; round < kMaxRounds; ++round) {
    auto& graph = *model.mutable_graph();
    ImportedModel scratch;
    scratch.path = options.modelPath;
    scratch.opset = opset;
    try {
      for (const auto& init : graph.initializer()) scratch.constants[init.name()] = constTensorFromProto(init, init.name());
    } catch (const CompileError&) {
      return;  // an initializer of a type the IPU lacks: the import reports it
    }
    const GraphShapes shapes = collectShapes(graph, scratch.constants);
    if (shapes.allStatic) return;
    scratch.tensors = shapes.known;

    ModelValues values;
    values.constants = scratch.constants;
    std::vector<bool> folded(static_cast<size_t>(graph.node_size()), false);
    bool progress = false;
    for (int i = 0; i < graph.node_size(); ++i) {
      const auto& node = graph.node(i);
      if (!node.domain().empty() && node.domain() != "ai.onnx") continue;
      const LoweringEntry* entry = registry.find(node.op_type(), opset);
      if (!entry || !foldNode(scratch, values, node, i, *entry, target, shapes, options.maxTensorSize)) continue;
      folded[static_cast<size_t>(i)] = true;
      progress = true;
      for (const auto& out : node.output())
        if (!out.empty()) scratch.tensors[out] = {values.constants.at(out).dtype, values.constants.at(out).shape};
    }
    if (!progress) return;

    // Folded nodes become initializers of their outputs.
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    for (int i = 0; i < graph.node_size(); ++i) {
      if (!folded[static_cast<size_t>(i)]) {
        *kept.Add() = graph.node(i);
        continue;
      }
      for (const auto& out : graph.node(i).output())
        if (!out.empty()) *graph.add_initializer() = toProto(out, values.constants.at(out));
    }
    graph.mutable_node()->Swap(&kept);
    graph.clear_value_info();
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), inference);
  }
}

}  // namespace ipusim
