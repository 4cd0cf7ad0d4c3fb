// Comparisons (-> bool), logic on bools, Where, IsNaN and IsInf: one lowerElementwise each.
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"

namespace ipusim {

namespace {

// "Op<dtype of input 0>" over the first `inputs` inputs.
LoweringEntry typedOp(const std::string& op, int since, const std::vector<DType>& dtypes, size_t inputs) {
  return {op, since, kNewestOpset, dtypes, kElementwiseTileMapping, [op, inputs](LoweringContext& ctx) {
            lowerElementwise(ctx, codeletName(op, ctx.inputInfo(0).dtype), inputs);
          }};
}

// Where(condition, X, Y): the output has X's type, named in the codelet.
void lowerWhere(LoweringContext& ctx) {
  lowerElementwise(ctx, codeletName("Where", ctx.inputInfo(1).dtype), 3);
}

void lowerIsInf(LoweringContext& ctx) {
  const std::vector<int64_t> detect = {ctx.intAttribute("detect_negative", 1) != 0 ? 1 : 0,
                                       ctx.intAttribute("detect_positive", 1) != 0 ? 1 : 0};
  lowerElementwise(ctx, codeletName("IsInf", ctx.inputInfo(0).dtype), {0}, detect);
}

}  // namespace

void registerLogicLowerings(LoweringRegistry& registry) {
  // Opset 7 replaced the legacy broadcast/axis attributes by numpy broadcasting; opset 9
  // widened Greater/Less and 11 Equal to every numeric type (wider sets are harmless, the
  // checker enforces each opset's).
  std::vector<DType> equalTypes = kNumericDTypes;
  equalTypes.push_back(DType::Bool);
  registry.add(typedOp("Equal", 7, equalTypes, 2));
  registry.add(typedOp("Greater", 7, kNumericDTypes, 2));
  registry.add(typedOp("Less", 7, kNumericDTypes, 2));
  registry.add(typedOp("GreaterOrEqual", 12, kNumericDTypes, 2));
  registry.add(typedOp("LessOrEqual", 12, kNumericDTypes, 2));
  for (const char* op : {"And", "Or", "Xor"}) registry.add(typedOp(op, 7, kBoolDTypes, 2));
  registry.add(typedOp("Not", 1, kBoolDTypes, 1));
  registry.add(typedOp("IsNaN", 9, kFloatDTypes, 1));
  registry.add({"IsInf", 10, kNewestOpset, kFloatDTypes, kElementwiseTileMapping, lowerIsInf});
  // The dtype check applies to input 0, the bool condition; X and Y may be any type.
  registry.add({"Where", 9, kNewestOpset, kBoolDTypes, kElementwiseTileMapping, lowerWhere});
}

}  // namespace ipusim
