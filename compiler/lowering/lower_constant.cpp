// Constant nodes produce compile-time values; a variable is made only where one is used.
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"

#include <cstring>

namespace ipusim {

namespace {

template <typename T>
ConstTensor fromValues(DType dtype, Shape shape, const std::vector<T>& values) {
  ConstTensor t{dtype, std::move(shape), std::vector<uint8_t>(values.size() * sizeof(T))};
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

void lowerConstant(LoweringContext& ctx) {
  for (const auto& attr : ctx.node().attribute()) {
    const std::string& n = attr.name();
    if (n == "value") {
      ctx.setConstantOutput(0, constTensorFromProto(attr.t(), ctx.where()));
    } else if (n == "value_float") {
      ctx.setConstantOutput(0, fromValues(DType::Float32, {}, std::vector<float>{attr.f()}));
    } else if (n == "value_floats") {
      std::vector<float> v(attr.floats().begin(), attr.floats().end());
      ctx.setConstantOutput(0, fromValues(DType::Float32, {static_cast<int64_t>(v.size())}, v));
    } else if (n == "value_int") {
      ctx.setConstantOutput(0, fromValues(DType::Int64, {}, std::vector<int64_t>{attr.i()}));
    } else if (n == "value_ints") {
      std::vector<int64_t> v(attr.ints().begin(), attr.ints().end());
      ctx.setConstantOutput(0, fromValues(DType::Int64, {static_cast<int64_t>(v.size())}, v));
    } else {
      throw CompileError(ctx.where() + ": Constant attribute '" + n + "' is not supported");
    }
    return;
  }
  throw CompileError(ctx.where() + ": Constant has no value");
}

}  // namespace

void registerConstantLowerings(LoweringRegistry& registry) {
  registry.add({"Constant", 1, kNewestOpset, allDTypes(), "compile-time value; a constant variable where used",
                lowerConstant});
}

}  // namespace ipusim
