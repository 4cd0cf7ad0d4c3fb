// Elementwise arithmetic and activations: one vertex per worker chunk of the output.
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"

namespace ipusim {

namespace {

const std::vector<DType> kArithmeticTypes = {DType::Float32, DType::Float16, DType::Int8,  DType::UInt8,
                                             DType::Int32,   DType::UInt32,  DType::Int64};
const std::vector<DType> kSignedTypes = {DType::Float32, DType::Float16, DType::Int8, DType::Int32, DType::Int64};
const char* const kElementwiseMapping =
    "output mapped like its full-size operand (else linearly over tiles); broadcast operands exchanged into "
    "that layout; one vertex per worker chunk";

LoweringEntry binary(const std::string& op, int since) {
  return {op, since, kNewestOpset, kArithmeticTypes, kElementwiseMapping, [op](LoweringContext& ctx) {
            lowerElementwise(ctx, codeletName(op, ctx.outputInfo(0).dtype), 2);
          }};
}

LoweringEntry unary(const std::string& op, int since) {
  return {op, since, kNewestOpset, kSignedTypes, kElementwiseMapping, [op](LoweringContext& ctx) {
            lowerElementwise(ctx, codeletName(op, ctx.outputInfo(0).dtype), 1);
          }};
}

void lowerCast(LoweringContext& ctx) {
  const DType from = ctx.inputInfo(0).dtype;
  const DType to = ctx.outputInfo(0).dtype;
  if (from == to) {
    ctx.setOutput(0, ctx.input(0));  // a no-op cast aliases its input
    return;
  }
  lowerElementwise(ctx, castCodeletName(from, to), 1);
}

}  // namespace

void registerElementwiseLowerings(LoweringRegistry& registry) {
  // Opset 7 made broadcasting numpy-style; earlier versions used a `broadcast` attribute.
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) registry.add(binary(op, 7));
  registry.add(unary("Neg", 6));
  registry.add(unary("Relu", 6));
  registry.add({"Cast", 6, kNewestOpset, allDTypes(), kElementwiseMapping, lowerCast});
}

}  // namespace ipusim
