#include "compiler/lowering/elementwise.h"

#include <cstring>
#include <map>
#include <numeric>
#include <optional>

#include "compiler/compiler.h"
#include "compiler/lowering/broadcast.h"
#include "sim/codelet.h"

namespace ipusim {

namespace {

bool sameMapping(const std::vector<TileSpan>& a, const std::vector<TileSpan>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].tile != b[i].tile || a[i].first != b[i].first || a[i].count != b[i].count) return false;
  return true;
}

// The constant broadcast to `outShape`, computed at compile time.
ConstTensor expandConstant(const ConstTensor& value, const Shape& outShape) {
  ConstTensor out{value.dtype, outShape, {}};
  const size_t size = dtypeSize(value.dtype);
  out.bytes.resize(static_cast<size_t>(elementCount(outShape)) * size);
  forEachBroadcastRun(value.shape, outShape, 0, static_cast<uint64_t>(elementCount(outShape)),
                      [&](const BroadcastRun& run) {
                        std::memcpy(out.bytes.data() + run.outFirst * size, value.bytes.data() + run.srcFirst * size,
                                    run.count * size);
                      });
  return out;
}

// Each tile's spans of `mapping` cut into at most workerContexts chunks of whole grains (a
// tile with one span is cut as splitForWorkers cuts it); a chunk may take pieces of several
// spans, one region each, so a fragmented layout (a matrix product's output blocks) still
// makes at most workerContexts vertices per tile. Calls f(tile, pieces) per chunk.
template <class F>
void forEachWorkerChunk(const std::vector<TileSpan>& mapping, DType dtype, const Target& target, F f) {
  std::map<uint32_t, std::vector<TileSpan>> perTile;
  for (const TileSpan& span : mapping) perTile[span.tile].push_back(span);
  const uint64_t grain = vectorGrain(dtype, target);
  for (const auto& [tile, spans] : perTile) {
    uint64_t total = 0;
    for (const TileSpan& span : spans) total += span.count;
    if (total == 0) continue;
    const uint64_t grains = (total + grain - 1) / grain;
    const uint64_t workers = std::min<uint64_t>(target.workerContexts, grains);
    const uint64_t share = (grains + workers - 1) / workers * grain;
    const uint32_t onTile = tile;  // a structured binding cannot be captured by clang's lambdas
    forEachShare(spans, share, [&](const std::vector<TileSpan>& pieces) { f(onTile, pieces); });
  }
}

}  // namespace

double floatAttribute(const LoweringContext& ctx, const std::string& name, double fallback) {
  const onnx::AttributeProto* attr = ctx.attribute(name);
  return attr ? static_cast<double>(attr->f()) : fallback;
}

std::string codeletName(const std::string& op, DType dtype) {
  return op + "<" + std::string(dtypeName(dtype)) + ">";
}

std::string castCodeletName(DType from, DType to) {
  return "Cast<" + std::string(dtypeName(from)) + "," + std::string(dtypeName(to)) + ">";
}

void lowerElementwise(LoweringContext& ctx, const std::string& codelet, size_t operands) {
  std::vector<size_t> inputs(operands);
  std::iota(inputs.begin(), inputs.end(), size_t{0});
  lowerElementwise(ctx, codelet, inputs);
}

void lowerElementwise(LoweringContext& ctx, const std::string& codelet, const std::vector<size_t>& inputs,
                      const std::vector<int64_t>& scalars) {
  if (!CodeletRegistry::instance().find(codelet)) {
    throw CompileError(ctx.where() + ": no codelet " + codelet + " for these element types");
  }
  GraphBuilder& b = ctx.builder();
  const TensorInfo& out = ctx.outputInfo(0);

  // The output takes the layout of a full-size run-time operand (one of the output's type
  // first), so that one needs no exchange; otherwise it is spread linearly.
  std::vector<TileSpan> mapping;
  bool mapped = false;
  for (bool sameType : {true, false}) {
    for (size_t i : inputs) {
      if (mapped) break;
      if (ctx.constantInput(i) || ctx.inputInfo(i).shape != out.shape) continue;
      if (sameType && ctx.inputInfo(i).dtype != out.dtype) continue;
      mapping = b.variable(ctx.input(i).var).mapping;
      mapped = true;
    }
  }
  if (!mapped) mapping = linearMapping(static_cast<uint64_t>(elementCount(out.shape)), out.dtype, ctx.target());
  const uint32_t outVar = b.addVariable(ctx.outputVariableName(0), out.dtype, out.shape, mapping);

  // Every operand in the output's layout.
  std::optional<uint32_t> exchange;  // made only if some operand must move
  std::vector<uint32_t> operandVars;
  for (size_t i : inputs) {
    const std::string operandName = ctx.name() + "/operand" + std::to_string(i);
    if (const ConstTensor* c = ctx.constantInput(i)) {
      operandVars.push_back(b.addConstant(operandName, expandConstant(*c, out.shape), mapping));
      continue;
    }
    TensorValue in = ctx.input(i);
    if (in.shape == out.shape && sameMapping(b.variable(in.var).mapping, mapping)) {
      operandVars.push_back(in.var);
      continue;
    }
    uint32_t laidOut = b.addVariable(operandName, in.dtype, out.shape, mapping);
    if (!exchange) exchange = b.addExchange(ctx.name() + "/broadcast");
    for (const TileSpan& span : mapping) {
      forEachBroadcastRun(in.shape, out.shape, span.first, span.count, [&](const BroadcastRun& run) {
        b.addCopy(*exchange, {in.var, run.srcFirst, run.count}, laidOut, run.outFirst);
      });
    }
    operandVars.push_back(laidOut);
  }

  const uint32_t computeSet = b.addComputeSet(ctx.name());
  forEachWorkerChunk(mapping, out.dtype, ctx.target(), [&](uint32_t tile, const std::vector<TileSpan>& pieces) {
    std::vector<std::vector<Slice>> fields;
    for (uint32_t var : operandVars) {
      fields.emplace_back();
      for (const TileSpan& piece : pieces) fields.back().push_back({var, piece.first, piece.count});
    }
    fields.emplace_back();
    for (const TileSpan& piece : pieces) fields.back().push_back({outVar, piece.first, piece.count});
    b.addVertex(computeSet, codelet, tile, std::move(fields), scalars);
  });
  if (exchange) b.exchange(*exchange);
  b.execute(computeSet);
  ctx.setOutput(0, {outVar, out.dtype, out.shape});
}

}  // namespace ipusim
