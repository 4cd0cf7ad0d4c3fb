#include "compiler/lowering/index_map.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "compiler/lowering/elementwise.h"
#include "sim/half.h"

namespace ipusim {

namespace {

// Accumulates consecutive output elements into maximal runs.
class RunBuilder {
 public:
  RunBuilder(uint64_t first, const RunSink& emit) : run_{first, kNoSource, 0}, emit_(emit) {}

  void push(int64_t src) {
    if (run_.count > 0) {
      const bool continues = run_.srcFirst == kNoSource
                                 ? src == kNoSource
                                 : src != kNoSource && src == run_.srcFirst + static_cast<int64_t>(run_.count);
      if (!continues) {
        emit_(run_);
        run_ = {run_.outFirst + run_.count, src, 0};
      }
    } else {
      run_.srcFirst = src;
    }
    ++run_.count;
  }

  void finish() {
    if (run_.count > 0) emit_(run_);
  }

 private:
  IndexRun run_;
  const RunSink& emit_;
};

}  // namespace

std::vector<int64_t> stridesOf(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

SeparableIndexMap stridedIndexMap(const Shape& outShape, const std::vector<int64_t>& strides, int64_t base) {
  SeparableIndexMap map{outShape, {}, base};
  for (size_t d = 0; d < outShape.size(); ++d) {
    std::vector<int64_t> offsets(static_cast<size_t>(outShape[d]));
    for (int64_t i = 0; i < outShape[d]; ++i) offsets[static_cast<size_t>(i)] = i * strides[d];
    map.axisOffsets.push_back(std::move(offsets));
  }
  return map;
}

void forEachIndexRun(const SeparableIndexMap& map, uint64_t first, uint64_t count, const RunSink& emit) {
  if (count == 0) return;
  RunBuilder runs(first, emit);
  const size_t rank = map.outShape.size();
  if (rank == 0) {  // a scalar
    runs.push(map.base);
    runs.finish();
    return;
  }
  const size_t last = rank - 1;
  std::vector<int64_t> index(rank, 0);
  uint64_t rest = first;
  for (size_t d = rank; d-- > 0;) {
    const uint64_t dim = static_cast<uint64_t>(map.outShape[d]);
    index[d] = static_cast<int64_t>(rest % dim);
    rest /= dim;
  }
  const std::vector<int64_t>& inner = map.axisOffsets[last];
  uint64_t remaining = count;
  while (remaining > 0) {
    // The contribution of the outer axes is fixed along a row of the innermost one.
    int64_t outer = map.base;
    bool outerGap = false;
    for (size_t d = 0; d < last; ++d) {
      const int64_t offset = map.axisOffsets[d][static_cast<size_t>(index[d])];
      if (offset == kNoSource) outerGap = true;
      outer += offset;
    }
    const uint64_t n = std::min<uint64_t>(remaining, static_cast<uint64_t>(map.outShape[last] - index[last]));
    for (uint64_t k = 0; k < n; ++k) {
      const int64_t offset = inner[static_cast<size_t>(index[last]) + k];
      runs.push(outerGap || offset == kNoSource ? kNoSource : outer + offset);
    }
    remaining -= n;
    index[last] = 0;
    for (size_t d = last; d-- > 0;) {
      if (++index[d] < map.outShape[d]) break;
      index[d] = 0;
    }
  }
  runs.finish();
}

void forEachIndexRun(uint64_t first, uint64_t count, const std::function<int64_t(uint64_t)>& srcIndexOf,
                     const RunSink& emit) {
  RunBuilder runs(first, emit);
  for (uint64_t e = first; e < first + count; ++e) runs.push(srcIndexOf(e));
  runs.finish();
}

bool isIdentityMap(const SeparableIndexMap& map) {
  const std::vector<int64_t> strides = stridesOf(map.outShape);
  int64_t origin = map.base;
  for (size_t d = 0; d < map.outShape.size(); ++d) {
    const auto& offsets = map.axisOffsets[d];
    if (offsets.empty()) return true;  // no elements
    for (size_t i = 0; i < offsets.size(); ++i) {
      if (offsets[i] == kNoSource || offsets[i] - offsets[0] != static_cast<int64_t>(i) * strides[d]) return false;
    }
    origin += offsets[0];
  }
  return origin == 0;
}

namespace {

std::vector<IndexRun> copyRuns(GraphBuilder& builder, uint32_t exchange, uint32_t srcVar, uint32_t dstVar,
                               const std::function<void(const RunSink&)>& walk) {
  std::vector<IndexRun> gaps;
  walk([&](const IndexRun& run) {
    if (run.srcFirst == kNoSource) {
      gaps.push_back(run);
    } else {
      builder.addCopy(exchange, {srcVar, static_cast<uint64_t>(run.srcFirst), run.count}, dstVar, run.outFirst);
    }
  });
  return gaps;
}

}  // namespace

std::vector<IndexRun> copyByIndexMap(GraphBuilder& builder, uint32_t exchange, uint32_t srcVar, uint32_t dstVar,
                                     const SeparableIndexMap& map) {
  const uint64_t count = static_cast<uint64_t>(elementCount(map.outShape));
  return copyRuns(builder, exchange, srcVar, dstVar,
                  [&](const RunSink& sink) { forEachIndexRun(map, 0, count, sink); });
}

std::vector<IndexRun> copyByIndexMap(GraphBuilder& builder, uint32_t exchange, uint32_t srcVar, uint32_t dstVar,
                                     uint64_t outCount, const std::function<int64_t(uint64_t)>& srcIndexOf) {
  return copyRuns(builder, exchange, srcVar, dstVar,
                  [&](const RunSink& sink) { forEachIndexRun(0, outCount, srcIndexOf, sink); });
}

FillValue zeroFill(DType dtype) {
  return {ConstTensor{dtype, {}, std::vector<uint8_t>(dtypeSize(dtype), 0)}, {}};
}

namespace {

template <typename T>
void storeAt(ConstTensor& tensor, int64_t i, T value) {
  std::memcpy(tensor.bytes.data() + static_cast<size_t>(i) * sizeof(T), &value, sizeof(T));
}

template <typename V>
void setElement(ConstTensor& t, int64_t i, V value) {
  switch (t.dtype) {
    case DType::Float32: storeAt(t, i, static_cast<float>(value)); return;
    case DType::Float16: storeAt(t, i, floatToHalf(static_cast<float>(value))); return;
    case DType::Int8: storeAt(t, i, static_cast<int8_t>(static_cast<int64_t>(value))); return;
    case DType::UInt8: storeAt(t, i, static_cast<uint8_t>(static_cast<int64_t>(value))); return;
    case DType::Int32: storeAt(t, i, static_cast<int32_t>(static_cast<int64_t>(value))); return;
    case DType::UInt32: storeAt(t, i, static_cast<uint32_t>(static_cast<int64_t>(value))); return;
    case DType::Int64: storeAt(t, i, static_cast<int64_t>(value)); return;
    case DType::Bool: storeAt(t, i, static_cast<uint8_t>(value != 0)); return;
  }
}

}  // namespace

void setConstElement(ConstTensor& tensor, int64_t i, double value) { setElement(tensor, i, value); }
void setConstElement(ConstTensor& tensor, int64_t i, int64_t value) { setElement(tensor, i, value); }

double constantRealAt(const ConstTensor& tensor, int64_t i) {
  const uint8_t* p = tensor.bytes.data() + static_cast<size_t>(i) * dtypeSize(tensor.dtype);
  if (tensor.dtype == DType::Float32) {
    float v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  if (tensor.dtype == DType::Float16) {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return halfToFloat(v);
  }
  return static_cast<double>(tensor.intAt(i));
}

ConstTensor scalarConstant(DType dtype, double value) {
  ConstTensor t{dtype, {}, std::vector<uint8_t>(dtypeSize(dtype), 0)};
  setConstElement(t, 0, value);
  return t;
}

void fillGaps(GraphBuilder& builder, const std::string& name, uint32_t dstVar, const std::vector<IndexRun>& gaps,
              const FillValue& value, uint32_t exchange, uint32_t computeSet) {
  const VariableDesc& dst = builder.variable(dstVar);
  const DType dtype = dst.dtype;
  // The gaps cut at tile boundaries, by tile.
  std::map<uint32_t, std::vector<Slice>> perTile;
  for (const IndexRun& gap : gaps) {
    for (uint64_t e = gap.outFirst, end = gap.outFirst + gap.count; e < end;) {
      const TileSpan& span = spanContaining(dst, e);
      const uint64_t n = std::min(end, span.first + span.count) - e;
      perTile[span.tile].push_back({dstVar, e, n});
      e += n;
    }
  }
  if (perTile.empty()) return;

  // One copy of the value on every tile that fills.
  std::vector<TileSpan> valueMapping;
  for (const auto& [tile, slices] : perTile) valueMapping.push_back({tile, valueMapping.size(), 1});
  const Shape valueShape{static_cast<int64_t>(valueMapping.size())};
  uint32_t valueVar;
  if (value.constant) {
    ConstTensor replicas{dtype, valueShape, {}};
    for (size_t k = 0; k < valueMapping.size(); ++k)
      replicas.bytes.insert(replicas.bytes.end(), value.constant->bytes.begin(), value.constant->bytes.end());
    valueVar = builder.addConstant(name + "/fill_value", replicas, std::move(valueMapping));
  } else {
    valueVar = builder.addVariable(name + "/fill_value", dtype, valueShape, valueMapping);
    for (uint64_t k = 0; k < valueMapping.size(); ++k) builder.addCopy(exchange, value.element, valueVar, k);
  }

  // Each tile's gap elements split evenly over its workers, no worker less than a vector.
  const std::string codelet = codeletName("Fill", dtype);
  const uint64_t workers = builder.target().workerContexts;
  uint64_t valueIndex = 0;
  for (const auto& [tile, slices] : perTile) {
    uint64_t total = 0;
    for (const Slice& s : slices) total += s.count;
    const uint64_t share = std::max(vectorGrain(dtype, builder.target()), (total + workers - 1) / workers);
    const uint32_t onTile = tile;  // a structured binding cannot be captured by clang's lambdas
    forEachShare(slices, share, [&](std::vector<Slice> regions) {
      builder.addVertex(computeSet, codelet, onTile, {{{valueVar, valueIndex, 1}}, std::move(regions)});
    });
    ++valueIndex;
  }
}

void lowerIndexMapped(LoweringContext& ctx, size_t input, const SeparableIndexMap& map,
                      const std::optional<FillValue>& fill, size_t output) {
  GraphBuilder& b = ctx.builder();
  const TensorValue in = ctx.input(input);
  const TensorInfo& out = ctx.outputInfo(output);
  // The map may walk a view of the output (DepthToSpace's 6-d one): same elements, same order.
  if (elementCount(map.outShape) != elementCount(out.shape)) {
    throw CompileError("internal: " + ctx.where() + ": index map shape " + shapeString(map.outShape) +
                       " differs in size from the output shape " + shapeString(out.shape));
  }
  if (elementCount(in.shape) == elementCount(out.shape) && isIdentityMap(map)) {
    ctx.setOutput(output, {in.var, out.dtype, out.shape});  // nothing moves
    return;
  }
  const uint32_t outVar = b.addVariable(ctx.outputVariableName(output), out.dtype, out.shape);
  const uint32_t exchange = b.addExchange(ctx.name());
  const std::vector<IndexRun> gaps = copyByIndexMap(b, exchange, in.var, outVar, map);
  std::optional<uint32_t> computeSet;
  if (!gaps.empty()) {
    if (!fill) throw CompileError("internal: " + ctx.where() + ": the index map leaves output elements unset");
    computeSet = b.addComputeSet(ctx.name() + "/fill");
    fillGaps(b, ctx.name(), outVar, gaps, *fill, exchange, *computeSet);
  }
  b.exchange(exchange);
  if (computeSet) b.execute(*computeSet);
  ctx.setOutput(output, {outVar, out.dtype, out.shape});
}

std::optional<std::vector<int64_t>> constantInts(const LoweringContext& ctx, size_t input) {
  const ConstTensor* c = ctx.constantInput(input);
  if (!c) return std::nullopt;
  return c->toInts();
}

int64_t normaliseAxis(const LoweringContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    throw CompileError(ctx.where() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                       std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

}  // namespace ipusim
