#include "compiler/lowering/dynamic_layout.h"

#include <optional>

namespace ipusim {

namespace {

bool sameMapping(const std::vector<TileSpan>& a, const std::vector<TileSpan>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].tile != b[i].tile || a[i].first != b[i].first || a[i].count != b[i].count) return false;
  return true;
}

// Whether elements [first, first + count) of `var` already lie in one span on `tile`.
bool residentOn(const VariableDesc& var, uint32_t tile, uint64_t first, uint64_t count) {
  if (count == 0) return true;
  const TileSpan& span = spanContaining(var, first);
  return span.tile == tile && first + count <= span.first + span.count;
}

}  // namespace

TileOperand placeNearOutput(LoweringContext& ctx, uint32_t exchange, const std::string& what, const TensorValue& src,
                            const std::vector<TileSpan>& outSpans, const RangeOfSpan& range) {
  GraphBuilder& b = ctx.builder();
  const uint64_t bytes = dtypeSize(src.dtype);
  const uint64_t budget = ctx.target().bytesPerTile / 4;
  TileOperand operand;
  std::vector<ElementRange> ranges;
  std::vector<TileSpan> mapping;  // of the copy, where one is needed
  uint64_t copied = 0;
  for (const TileSpan& span : outSpans) {
    const ElementRange r = range(span);
    if (r.count * bytes > budget) {
      throw CompileError(ctx.where() + ": the run-time values need " + std::to_string(r.count * bytes) + " bytes of " +
                         what + " next to each output tile, more than the " + std::to_string(budget) +
                         "-byte budget; make the parameters constant or the tensor smaller");
    }
    ranges.push_back(r);
    if (!residentOn(b.variable(src.var), span.tile, r.first, r.count)) {
      mapping.push_back({span.tile, copied, r.count});
      copied += r.count;
    }
  }
  std::optional<uint32_t> copyVar;
  if (copied > 0) {
    copyVar = b.addVariable(ctx.name() + "/" + what, src.dtype, {static_cast<int64_t>(copied)}, mapping);
  }
  uint64_t at = 0;
  for (size_t k = 0; k < outSpans.size(); ++k) {
    const ElementRange& r = ranges[k];
    if (residentOn(b.variable(src.var), outSpans[k].tile, r.first, r.count)) {
      operand.perSpan.push_back({src.var, r.first, r.count});
      continue;
    }
    b.addCopy(exchange, {src.var, r.first, r.count}, *copyVar, at);
    operand.perSpan.push_back({*copyVar, at, r.count});
    at += r.count;
  }
  return operand;
}

TileOperand placeWholeNearOutput(LoweringContext& ctx, uint32_t exchange, const std::string& what,
                                 const TensorValue& src, const std::vector<TileSpan>& outSpans) {
  const uint64_t count = static_cast<uint64_t>(elementCount(src.shape));
  return placeNearOutput(ctx, exchange, what, src, outSpans, [count](const TileSpan&) { return ElementRange{0, count}; });
}

TileOperand placeOptionalInput(LoweringContext& ctx, uint32_t exchange, size_t input, const std::string& what,
                               const std::vector<TileSpan>& outSpans) {
  if (!ctx.hasInput(input) || elementCount(ctx.inputInfo(input).shape) == 0) {
    return {std::vector<Slice>(outSpans.size()), false};
  }
  return placeWholeNearOutput(ctx, exchange, what, ctx.input(input), outSpans);
}

TileOperand alignWithOutput(LoweringContext& ctx, uint32_t exchange, const std::string& what, const TensorValue& src,
                            const std::vector<TileSpan>& outSpans) {
  GraphBuilder& b = ctx.builder();
  if (sameMapping(b.variable(src.var).mapping, outSpans)) return {{{src.var, 0, 0}}, true};
  const uint32_t var = b.addVariable(ctx.name() + "/" + what, src.dtype, src.shape, outSpans);
  for (const TileSpan& span : outSpans) b.addCopy(exchange, {src.var, span.first, span.count}, var, span.first);
  return {{{var, 0, 0}}, true};
}

void addChunkVertices(GraphBuilder& builder, uint32_t computeSet, const std::string& codelet, uint32_t outVar,
                      const std::vector<TileSpan>& outSpans, const std::vector<TileOperand>& operands,
                      const ChunkScalars& scalarsOf) {
  const DType dtype = builder.variable(outVar).dtype;
  for (size_t k = 0; k < outSpans.size(); ++k) {
    for (const TileSpan& chunk : splitForWorkers(outSpans[k], dtype, builder.target())) {
      std::vector<std::vector<Slice>> fields;
      for (const TileOperand& operand : operands) {
        fields.push_back({operand.aligned ? Slice{operand.perSpan[0].var, chunk.first, chunk.count}
                                          : operand.perSpan[k]});
      }
      fields.push_back({{outVar, chunk.first, chunk.count}});
      builder.addVertex(computeSet, codelet, chunk.tile, std::move(fields), scalarsOf(chunk, outSpans[k]));
    }
  }
}

int64_t dtypeScalar(const LoweringContext& ctx, size_t input) {
  return static_cast<int64_t>(ctx.hasInput(input) ? ctx.inputInfo(input).dtype : DType::Int64);
}

void lowerDynamic(LoweringContext& ctx, const std::string& codelet, DynamicLowering lowering, size_t output) {
  GraphBuilder& b = ctx.builder();
  const TensorInfo& out = ctx.outputInfo(output);
  std::vector<TileSpan> spans = lowering.outSpans.empty()
                                    ? linearMapping(static_cast<uint64_t>(elementCount(out.shape)), out.dtype, ctx.target())
                                    : lowering.outSpans;
  const uint32_t outVar = b.addVariable(ctx.outputVariableName(output), out.dtype, out.shape, spans);
  const uint32_t exchange = b.addExchange(ctx.name());
  const std::vector<TileOperand> operands = lowering.place(exchange, spans);
  const uint32_t computeSet = b.addComputeSet(ctx.name());
  addChunkVertices(b, computeSet, codelet, outVar, spans, operands, lowering.scalarsOf);
  b.exchange(exchange);
  b.execute(computeSet);
  ctx.setOutput(output, {outVar, out.dtype, out.shape});
}

}  // namespace ipusim
