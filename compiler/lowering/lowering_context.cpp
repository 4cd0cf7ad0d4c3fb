#include "compiler/lowering/lowering_context.h"

namespace ipusim {

LoweringContext::LoweringContext(GraphBuilder& builder, const ImportedModel& model, ModelValues& values,
                                 const onnx::NodeProto& node, int nodeIndex)
    : builder_(builder), model_(model), values_(values), node_(node) {
  name_ = values.prefix + (node.name().empty() ? node.op_type() + "_" + std::to_string(nodeIndex) : node.name());
}

std::string LoweringContext::where() const {
  return node_.op_type() + " node '" + name_ + "' in " + model_.path;
}

const TensorInfo& LoweringContext::inputInfo(size_t i) const {
  const std::string& tensor = node_.input(static_cast<int>(i));
  auto it = model_.tensors.find(tensor);
  if (it == model_.tensors.end()) throw CompileError(where() + ": input '" + tensor + "' has no known type and shape");
  return it->second;
}

const TensorInfo& LoweringContext::outputInfo(size_t i) const {
  const std::string& tensor = node_.output(static_cast<int>(i));
  auto it = model_.tensors.find(tensor);
  if (it == model_.tensors.end()) throw CompileError(where() + ": output '" + tensor + "' has no static shape");
  return it->second;
}

const ConstTensor* LoweringContext::constantInput(size_t i) const {
  if (!hasInput(i)) return nullptr;
  auto it = values_.constants.find(node_.input(static_cast<int>(i)));
  return it == values_.constants.end() ? nullptr : &it->second;
}

TensorValue LoweringContext::input(size_t i) {
  const std::string& tensor = node_.input(static_cast<int>(i));
  if (auto it = values_.lowered.find(tensor); it != values_.lowered.end()) return it->second;
  auto c = values_.constants.find(tensor);
  if (c == values_.constants.end()) throw CompileError(where() + ": input '" + tensor + "' is not defined before use");
  uint32_t var = builder_.addConstant(values_.prefix + tensor, c->second);
  TensorValue value{var, c->second.dtype, c->second.shape};
  values_.lowered[tensor] = value;
  return value;
}

void LoweringContext::setOutput(size_t i, const TensorValue& value) {
  values_.lowered[node_.output(static_cast<int>(i))] = value;
}

void LoweringContext::setConstantOutput(size_t i, ConstTensor value) {
  values_.constants[node_.output(static_cast<int>(i))] = std::move(value);
}

std::string LoweringContext::outputVariableName(size_t i) const {
  return values_.prefix + node_.output(static_cast<int>(i));
}

const onnx::AttributeProto* LoweringContext::attribute(const std::string& name) const {
  for (const auto& attr : node_.attribute())
    if (attr.name() == name) return &attr;
  return nullptr;
}

int64_t LoweringContext::intAttribute(const std::string& name, int64_t fallback) const {
  const auto* attr = attribute(name);
  return attr ? attr->i() : fallback;
}

}  // namespace ipusim
