// MaxPool (with its Indices output), AveragePool (count_include_pad, ceil_mode), LpPool:
// the output is mapped linearly; one exchange gathers each output element's window next to
// it on its tile (a [outputs][window] buffer; padding and positions beyond the padded end
// in ceil mode are filled with the op's neutral value by Fill vertices); one pooling vertex
// per worker chunk reduces the windows. GlobalAveragePool, GlobalMaxPool and GlobalLpPool
// are reductions over the spatial axes (compiler/lowering/reduction.h).
#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "compiler/compiler.h"
#include "compiler/lowering/index_map.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "compiler/lowering/reduction.h"
#include "compiler/planning/conv_planner.h"
#include "sim/codelet.h"

namespace ipusim {

namespace {

const char* const kPoolMapping =
    "output mapped linearly; each output's window gathered next to it by one exchange (padding filled); one "
    "pooling vertex per worker chunk";
const char* const kGlobalPoolMapping = "a reduction over the spatial axes (as ReduceMean/ReduceMax)";

enum class PoolKind : uint8_t { Max, Average, Lp };

std::vector<int64_t> intsOr(const LoweringContext& ctx, const std::string& name, size_t count, int64_t fallback) {
  const onnx::AttributeProto* attr = ctx.attribute(name);
  if (attr == nullptr || attr->ints_size() == 0) return std::vector<int64_t>(count, fallback);
  if (static_cast<size_t>(attr->ints_size()) != count) {
    throw CompileError(ctx.where() + ": " + ctx.node().op_type() + "'s " + name + " has " +
                       std::to_string(attr->ints_size()) + " values, not " + std::to_string(count));
  }
  return {attr->ints().begin(), attr->ints().end()};
}

// LpPool's p: a float attribute in opset 1, an int after.
double pAttribute(const LoweringContext& ctx) {
  const onnx::AttributeProto* attr = ctx.attribute("p");
  if (attr == nullptr) return 2.0;
  return attr->type() == onnx::AttributeProto::FLOAT ? static_cast<double>(attr->f()) : static_cast<double>(attr->i());
}

PoolSpec poolSpec(const LoweringContext& ctx) {
  const std::string& op = ctx.node().op_type();
  const Shape& x = ctx.inputInfo(0).shape;
  const Shape& y = ctx.outputInfo(0).shape;
  if (x.size() < 3 || y.size() != x.size()) {
    throw CompileError(ctx.where() + ": " + op + " needs an input [N, C, spatial...], not " + shapeString(x));
  }
  const size_t rank = x.size() - 2;
  PoolSpec s;
  s.batch = x[0];
  s.channels = x[1];
  s.inSpatial.assign(x.begin() + 2, x.end());
  s.outSpatial.assign(y.begin() + 2, y.end());
  const onnx::AttributeProto* kernel = ctx.attribute("kernel_shape");
  if (kernel == nullptr || static_cast<size_t>(kernel->ints_size()) != rank) {
    throw CompileError(ctx.where() + ": " + op + " needs kernel_shape with one size per spatial axis");
  }
  s.kernel.assign(kernel->ints().begin(), kernel->ints().end());
  s.strides = intsOr(ctx, "strides", rank, 1);
  s.dilations = intsOr(ctx, "dilations", rank, 1);
  const std::vector<int64_t> pads = intsOr(ctx, "pads", 2 * rank, 0);
  const onnx::AttributeProto* autoPadAttr = ctx.attribute("auto_pad");
  const std::string autoPad = autoPadAttr ? autoPadAttr->s() : "NOTSET";
  for (size_t d = 0; d < rank; ++d) {
    if (s.kernel[d] < 1 || s.strides[d] < 1 || s.dilations[d] < 1) {
      throw CompileError(ctx.where() + ": kernel sizes, strides and dilations must be positive");
    }
    const AxisPads p = resolveAxisPads(autoPad, s.inSpatial[d], s.outSpatial[d], s.kernel[d], s.strides[d],
                                       s.dilations[d], pads[d], pads[rank + d]);
    s.padBegin.push_back(p.begin);
    s.padEnd.push_back(p.end);
  }
  if (y[0] != s.batch || y[1] != s.channels) {
    throw CompileError(ctx.where() + ": output " + shapeString(y) + " disagrees with the input " + shapeString(x));
  }
  return s;
}

// The value padding holds: the type's lowest for MaxPool (never the maximum unless nothing
// real is greater), zero for sums.
ConstTensor padValue(DType dtype, PoolKind kind) {
  ConstTensor value{dtype, {}, std::vector<uint8_t>(dtypeSize(dtype), 0)};
  if (kind != PoolKind::Max) return value;
  switch (dtype) {
    case DType::Int8: setConstElement(value, 0, int64_t{std::numeric_limits<int8_t>::min()}); break;
    case DType::UInt8: break;
    default: setConstElement(value, 0, -std::numeric_limits<double>::infinity()); break;
  }
  return value;
}

std::vector<TileSpan> scaledMapping(const std::vector<TileSpan>& mapping, uint64_t factor) {
  std::vector<TileSpan> scaled;
  for (const TileSpan& span : mapping) scaled.push_back({span.tile, span.first * factor, span.count * factor});
  return scaled;
}

// A tile's windows may take at most this share of its memory (assumption: leaves room for
// the input, the output and the exchange code of the gather).
constexpr uint64_t kWindowsShareOfTile = 8;

// The output mapped linearly, with fewer outputs per tile where their windows would not fit
// the share above.
std::vector<TileSpan> poolOutputMapping(uint64_t outputs, uint64_t window, DType dtype, const Target& target) {
  std::vector<TileSpan> linear = linearMapping(outputs, dtype, target);
  const uint64_t budget = target.bytesPerTile / kWindowsShareOfTile;
  const uint64_t windowBytes = window * dtypeSize(dtype);
  uint64_t most = 0;
  for (const TileSpan& span : linear) most = std::max(most, span.count);
  if (most * windowBytes <= budget) return linear;
  const uint64_t perTile = std::max<uint64_t>(std::max<uint64_t>(1, budget / windowBytes),
                                              (outputs + target.tiles - 1) / target.tiles);
  std::vector<TileSpan> mapping;
  for (uint64_t first = 0, tile = 0; first < outputs; first += perTile, ++tile) {
    mapping.push_back({static_cast<uint32_t>(tile), first, std::min(perTile, outputs - first)});
  }
  return mapping;
}

ConstTensor int64Tensor(const std::vector<int64_t>& values) {
  ConstTensor t{DType::Int64, {static_cast<int64_t>(values.size())}, std::vector<uint8_t>(values.size() * 8)};
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

void lowerPool(LoweringContext& ctx, PoolKind kind) {
  const PoolSpec spec = poolSpec(ctx);
  const TensorInfo& out = ctx.outputInfo(0);
  const DType dtype = out.dtype;
  GraphBuilder& b = ctx.builder();
  const std::string dtypeText(dtypeName(dtype));
  const uint64_t outputs = static_cast<uint64_t>(spec.outElements());
  const uint64_t window = static_cast<uint64_t>(spec.windowSize());
  const bool wantIndices = kind == PoolKind::Max && ctx.node().output_size() > 1 && !ctx.node().output(1).empty();
  const int64_t storageOrder = ctx.intAttribute("storage_order", 0);
  if (outputs == 0) {
    ctx.setConstantOutput(0, ConstTensor{dtype, out.shape, {}});
    if (wantIndices) ctx.setConstantOutput(1, ConstTensor{DType::Int64, ctx.outputInfo(1).shape, {}});
    return;
  }
  const TensorValue x = ctx.input(0);

  // 1. Windows next to their outputs.
  const uint32_t outVar = b.addVariable(ctx.outputVariableName(0), dtype, out.shape,
                                        poolOutputMapping(outputs, window, dtype, b.target()));
  const std::vector<TileSpan> outMapping = b.variable(outVar).mapping;
  const uint32_t windows =
      b.addVariable(ctx.name() + "/windows", dtype, {static_cast<int64_t>(outputs * window)}, scaledMapping(outMapping, window));
  const uint32_t exchange = b.addExchange(ctx.name() + "/windows");
  const std::vector<IndexRun> gaps =
      copyByIndexMap(b, exchange, x.var, windows, outputs * window, [&](uint64_t e) -> int64_t {
        const int64_t source = spec.windowSource(static_cast<int64_t>(e / window), static_cast<int64_t>(e % window));
        return source == kNoConvSource ? kNoSource : source;
      });
  std::optional<uint32_t> pad;
  if (!gaps.empty()) {
    pad = b.addComputeSet(ctx.name() + "/pad");
    fillGaps(b, ctx.name() + "/pad", windows, gaps, FillValue{padValue(dtype, kind), {}}, exchange, *pad);
  }

  // 2. Per-output operands laid out like the output: AveragePool's divisors when they
  // differ, MaxPool's index bases and per-tile window offsets.
  const bool countIncludePad = ctx.intAttribute("count_include_pad", 0) != 0;
  std::optional<uint32_t> divisors;
  double uniformDivisor = static_cast<double>(window);
  if (kind == PoolKind::Average) {
    std::vector<float> values(outputs);
    for (uint64_t o = 0; o < outputs; ++o) {
      values[o] = static_cast<float>(spec.windowCount(static_cast<int64_t>(o), countIncludePad));
    }
    uniformDivisor = values.front();
    if (std::any_of(values.begin(), values.end(), [&](float v) { return v != values.front(); })) {
      ConstTensor t{DType::Float32, {static_cast<int64_t>(outputs)}, std::vector<uint8_t>(outputs * sizeof(float))};
      std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
      divisors = b.addConstant(ctx.name() + "/divisors", t, outMapping);
    }
  }
  std::optional<uint32_t> indicesVar, baseVar, offsetsVar;
  std::vector<uint32_t> tilesUsed;
  for (const TileSpan& span : outMapping) {
    if (tilesUsed.empty() || tilesUsed.back() != span.tile) tilesUsed.push_back(span.tile);
  }
  if (wantIndices) {
    if (storageOrder != 0 && storageOrder != 1) throw CompileError(ctx.where() + ": storage_order must be 0 or 1");
    indicesVar = b.addVariable(ctx.outputVariableName(1), DType::Int64, ctx.outputInfo(1).shape, outMapping);
    std::vector<int64_t> base(outputs), offsets;
    for (uint64_t o = 0; o < outputs; ++o) base[o] = spec.indexBase(static_cast<int64_t>(o), storageOrder);
    baseVar = b.addConstant(ctx.name() + "/index_base", int64Tensor(base), outMapping);
    std::vector<TileSpan> offsetMapping;
    for (uint32_t tile : tilesUsed) {
      offsetMapping.push_back({tile, offsets.size(), window});
      for (uint64_t w = 0; w < window; ++w) offsets.push_back(spec.indexOffset(static_cast<int64_t>(w), storageOrder));
    }
    offsetsVar = b.addConstant(ctx.name() + "/index_offsets", int64Tensor(offsets), offsetMapping);
  }

  // 3. One vertex per worker chunk of each tile's outputs.
  const char* op = kind == PoolKind::Max ? (wantIndices ? "MaxPoolIndices" : "MaxPool")
                   : kind == PoolKind::Average ? "AveragePool"
                                               : "LpPool";
  const std::string codelet = std::string(op) + "<" + dtypeText + ">";
  std::vector<int64_t> scalars{static_cast<int64_t>(window)};
  if (kind == PoolKind::Average) scalars.push_back(scalarFromDouble(uniformDivisor));
  if (kind == PoolKind::Lp) {
    const double p = pAttribute(ctx);
    if (!(p > 0)) throw CompileError(ctx.where() + ": LpPool's p must be positive");
    scalars.push_back(scalarFromDouble(p));
  }
  const uint32_t compute = b.addComputeSet(ctx.name());
  size_t tileIndex = 0;
  for (const TileSpan& span : outMapping) {
    while (tilesUsed[tileIndex] != span.tile) ++tileIndex;
    for (const TileSpan& chunk : splitForWorkers(span, dtype, b.target())) {
      std::vector<std::vector<Slice>> fields{{{windows, chunk.first * window, chunk.count * window}},
                                             {{outVar, chunk.first, chunk.count}}};
      if (kind == PoolKind::Average) {
        fields.push_back(divisors ? std::vector<Slice>{{*divisors, chunk.first, chunk.count}} : std::vector<Slice>{});
      }
      if (wantIndices) {
        fields.push_back({{*indicesVar, chunk.first, chunk.count}});
        fields.push_back({{*baseVar, chunk.first, chunk.count}});
        fields.push_back({{*offsetsVar, tileIndex * window, window}});
      }
      b.addVertex(compute, codelet, span.tile, std::move(fields), scalars);
    }
  }
  b.exchange(exchange);
  if (pad) b.execute(*pad);
  b.execute(compute);
  ctx.setOutput(0, {outVar, dtype, out.shape});
  if (wantIndices) ctx.setOutput(1, {*indicesVar, DType::Int64, ctx.outputInfo(1).shape});
}

// GlobalAveragePool, GlobalMaxPool, GlobalLpPool: one reduction over every spatial axis.
void lowerGlobalPool(LoweringContext& ctx, PoolKind kind) {
  const TensorInfo& in = ctx.inputInfo(0);
  const TensorInfo& out = ctx.outputInfo(0);
  if (in.shape.size() < 3) {
    throw CompileError(ctx.where() + ": " + ctx.node().op_type() + " needs an input [N, C, spatial...], not " +
                       shapeString(in.shape));
  }
  ReduceSpec spec;
  spec.outDtype = out.dtype;
  for (size_t d = 2; d < in.shape.size(); ++d) {
    spec.axes.push_back(static_cast<int64_t>(d));
    if (kind == PoolKind::Average) spec.divisor *= static_cast<double>(in.shape[d]);
  }
  switch (kind) {
    case PoolKind::Max: spec.op = codelets::ReduceOp::Max; break;
    case PoolKind::Average: spec.op = codelets::ReduceOp::Add; break;
    case PoolKind::Lp: {
      const double p = pAttribute(ctx);
      if (p == 1.0) {
        spec.op = codelets::ReduceOp::AbsAdd;
      } else if (p == 2.0) {
        spec.op = codelets::ReduceOp::SquareAdd;
        spec.finish = codelets::ReduceFinish::Sqrt;
      } else {
        throw CompileError(ctx.where() + ": GlobalLpPool with p = " + std::to_string(p) +
                           " is not supported (p = 1 and p = 2 are: reductions with no general power)");
      }
      break;
    }
  }
  ctx.setOutput(0, reduceTensor(ctx.builder(), ctx.outputVariableName(0), ctx.input(0), spec, out.shape));
}

}  // namespace

void registerPoolLowerings(LoweringRegistry& registry) {
  const std::vector<DType> floats = {DType::Float32, DType::Float16};
  const std::vector<DType> maxTypes = {DType::Float32, DType::Float16, DType::Int8, DType::UInt8};
  registry.add({"MaxPool", 1, kNewestOpset, maxTypes, kPoolMapping, [](LoweringContext& c) { lowerPool(c, PoolKind::Max); }});
  registry.add({"AveragePool", 1, kNewestOpset, floats, kPoolMapping,
                [](LoweringContext& c) { lowerPool(c, PoolKind::Average); }});
  registry.add({"LpPool", 1, kNewestOpset, floats, kPoolMapping, [](LoweringContext& c) { lowerPool(c, PoolKind::Lp); }});
  registry.add({"GlobalMaxPool", 1, kNewestOpset, floats, kGlobalPoolMapping,
                [](LoweringContext& c) { lowerGlobalPool(c, PoolKind::Max); }});
  registry.add({"GlobalAveragePool", 1, kNewestOpset, floats, kGlobalPoolMapping,
                [](LoweringContext& c) { lowerGlobalPool(c, PoolKind::Average); }});
  registry.add({"GlobalLpPool", 1, kNewestOpset, floats, kGlobalPoolMapping,
                [](LoweringContext& c) { lowerGlobalPool(c, PoolKind::Lp); }});
}

}  // namespace ipusim
