// Concat moves data by exchange: each input's rows are copied into their place in a
// linearly mapped output.
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"

namespace ipusim {

namespace {

void lowerConcat(LoweringContext& ctx) {
  GraphBuilder& b = ctx.builder();
  const TensorInfo& out = ctx.outputInfo(0);
  const int64_t rank = static_cast<int64_t>(out.shape.size());
  int64_t axis = ctx.intAttribute("axis", 0);
  if (axis < -rank || axis >= rank) throw CompileError(ctx.where() + ": axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += rank;

  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= out.shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= out.shape[static_cast<size_t>(d)];
  const uint64_t outRow = static_cast<uint64_t>(out.shape[static_cast<size_t>(axis)] * inner);

  const uint32_t outVar = b.addVariable(ctx.outputVariableName(0), out.dtype, out.shape);
  const uint32_t exchange = b.addExchange(ctx.name());
  uint64_t column = 0;  // where this input's block starts within an output row
  for (size_t i = 0; i < ctx.inputCount(); ++i) {
    const TensorInfo& info = ctx.inputInfo(i);
    const uint64_t block = static_cast<uint64_t>(info.shape[static_cast<size_t>(axis)] * inner);
    if (block > 0) {
      const uint32_t inVar = ctx.input(i).var;
      for (uint64_t o = 0; o < static_cast<uint64_t>(outer); ++o) {
        b.addCopy(exchange, {inVar, o * block, block}, outVar, o * outRow + column);
      }
    }
    column += block;
  }
  b.exchange(exchange);
  ctx.setOutput(0, {outVar, out.dtype, out.shape});
}

}  // namespace

void registerConcatLowerings(LoweringRegistry& registry) {
  registry.add({"Concat", 4, kNewestOpset, allDTypes(),
                "output mapped linearly; every input row copied into place by one exchange", lowerConcat});
}

}  // namespace ipusim
