// What a lowering function sees of the model being lowered: its node, the tensors' static
// types and shapes, the values already lowered, and the GraphBuilder to emit into.
#pragma once
#include <map>
#include <string>

#include <onnx/onnx_pb.h>

#include "compiler/import/onnx_import.h"
#include "compiler/lowering/graph_builder.h"

namespace ipusim {

// A lowered tensor: a whole variable viewed with a shape (shape-only ops alias it).
struct TensorValue {
  uint32_t var = 0;
  DType dtype = DType::Float32;
  Shape shape;
};

// The tensors of one model as lowering proceeds.
struct ModelValues {
  std::string prefix;                            // variable-name prefix, "graph0/" when fused
  std::map<std::string, TensorValue> lowered;    // tensors that have a variable
  std::map<std::string, ConstTensor> constants;  // tensors known at compile time
};

class LoweringContext {
 public:
  LoweringContext(GraphBuilder& builder, const ImportedModel& model, ModelValues& values,
                  const onnx::NodeProto& node, int nodeIndex);

  GraphBuilder& builder() { return builder_; }
  const Target& target() const { return builder_.target(); }
  const onnx::NodeProto& node() const { return node_; }
  const ImportedModel& model() const { return model_; }
  // Node name for compute sets and errors: the ONNX name, or "<OpType>_<index>".
  const std::string& name() const { return name_; }
  // A description for error messages: "Add node 'Add_0' in model.onnx".
  std::string where() const;

  size_t inputCount() const { return static_cast<size_t>(node_.input_size()); }
  bool hasInput(size_t i) const { return i < inputCount() && !node_.input(static_cast<int>(i)).empty(); }
  const TensorInfo& inputInfo(size_t i) const;
  const TensorInfo& outputInfo(size_t i) const;
  // The compile-time value of input i, or nullptr when it is only known at run time.
  const ConstTensor* constantInput(size_t i) const;
  // Input i as a variable; a constant input becomes a (linearly mapped) constant variable.
  TensorValue input(size_t i);
  void setOutput(size_t i, const TensorValue& value);
  void setConstantOutput(size_t i, ConstTensor value);
  // A name for a new variable derived from output i ("graph0/S").
  std::string outputVariableName(size_t i) const;

  int64_t intAttribute(const std::string& name, int64_t fallback) const;
  const onnx::AttributeProto* attribute(const std::string& name) const;

 private:
  GraphBuilder& builder_;
  const ImportedModel& model_;
  ModelValues& values_;
  const onnx::NodeProto& node_;
  std::string name_;
};

}  // namespace ipusim
