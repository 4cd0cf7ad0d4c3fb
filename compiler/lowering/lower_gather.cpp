// Index-driven layout ops. With constant indices Gather, GatherElements, GatherND and
// Compress are index maps: one exchange of maximal runs. With run-time indices the part of
// the source an output chunk can read is copied next to it with the indices, and a codelet
// (sim/codelets/gather_codelets.cpp) selects on that tile. Scatters and OneHot always use
// their codelet: the output starts as a copy of the data laid out like it.
#include <algorithm>
#include <cstring>

#include "compiler/lowering/dynamic_layout.h"
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/index_map.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "sim/codelets/layout_rules.h"

namespace ipusim {

namespace {

int64_t product(const Shape& shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t d = from; d < to; ++d) n *= shape[d];
  return n;
}

// A constant index wrapped into [0, dim), or a CompileError naming the op.
int64_t wrapConstantIndex(const LoweringContext& ctx, int64_t index, int64_t dim) {
  const int64_t wrapped = index < 0 ? index + dim : index;
  if (wrapped < 0 || wrapped >= dim) {
    throw CompileError(ctx.where() + ": index " + std::to_string(index) + " is out of range for an axis of " +
                       std::to_string(dim));
  }
  return wrapped;
}

std::vector<int64_t> withShapes(std::vector<int64_t> scalars, std::initializer_list<const Shape*> shapes) {
  for (const Shape* shape : shapes) scalars.insert(scalars.end(), shape->begin(), shape->end());
  return scalars;
}

// Prepends the chunk's first output element (and a source offset) to common scalars.
ChunkScalars chunkScalars(std::vector<int64_t> common, bool withSourceOffset) {
  return [common = std::move(common), withSourceOffset](const TileSpan& chunk, const TileSpan&) {
    std::vector<int64_t> scalars{static_cast<int64_t>(chunk.first)};
    if (withSourceOffset) scalars.push_back(0);
    scalars.insert(scalars.end(), common.begin(), common.end());
    return scalars;
  };
}

// ---- Gather ----

// Run-time indices, small table: the outer slabs of the data an output span reads, and the
// indices of its rows, are copied next to it; Gather vertices select there.
void lowerGatherBySlabs(LoweringContext& ctx, int64_t axisLength, int64_t inner, int64_t count) {
  const int64_t perOuter = count * inner;
  auto dataRange = [=](const TileSpan& span) {
    const int64_t first = static_cast<int64_t>(span.first) / perOuter;
    const int64_t last = static_cast<int64_t>(span.first + span.count - 1) / perOuter;
    return ElementRange{static_cast<uint64_t>(first * axisLength * inner),
                        static_cast<uint64_t>((last - first + 1) * axisLength * inner)};
  };
  auto indicesRange = [=](const TileSpan& span) {
    const int64_t firstElement = static_cast<int64_t>(span.first), lastElement = firstElement + static_cast<int64_t>(span.count) - 1;
    if (firstElement / perOuter != lastElement / perOuter) return ElementRange{0, static_cast<uint64_t>(count)};
    const int64_t first = firstElement / inner % count, last = lastElement / inner % count;
    return ElementRange{static_cast<uint64_t>(first), static_cast<uint64_t>(last - first + 1)};
  };
  DynamicLowering dynamic;
  dynamic.place = [&](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{placeNearOutput(ctx, exchange, "data", ctx.input(0), spans, dataRange),
                                    placeNearOutput(ctx, exchange, "indices", ctx.input(1), spans, indicesRange)};
  };
  const int64_t indicesType = dtypeScalar(ctx, 1);
  dynamic.scalarsOf = [=](const TileSpan& chunk, const TileSpan& span) {
    return std::vector<int64_t>{static_cast<int64_t>(chunk.first),
                                static_cast<int64_t>(dataRange(span).first),
                                indicesType,
                                axisLength,
                                inner,
                                count,
                                static_cast<int64_t>(indicesRange(span).first)};
  };
  lowerDynamic(ctx, codeletName("Gather", ctx.outputInfo(0).dtype), std::move(dynamic));
}

// Run-time indices, large table (an embedding): poplibs' column split. The table's columns
// (outer x inner positions) are divided among tiles, each holding all `axisLength` rows of
// its columns: laid out so at compile time when the table is constant, else by exchange.
// Every tile receives all indices, GatherRows vertices copy the selected rows of its
// columns, and a second exchange puts those rows in place in the linearly mapped output.
void lowerGatherByColumns(LoweringContext& ctx, int64_t axisLength, int64_t outer, int64_t inner, int64_t count) {
  GraphBuilder& b = ctx.builder();
  const TensorInfo& outInfo = ctx.outputInfo(0);
  const DType dtype = outInfo.dtype;
  const uint64_t bytes = dtypeSize(dtype);
  const uint64_t rows = static_cast<uint64_t>(axisLength), indices = static_cast<uint64_t>(count);
  const uint64_t columns = static_cast<uint64_t>(outer * inner);
  const uint64_t width = (columns + ctx.target().tiles - 1) / ctx.target().tiles;  // columns per tile
  const uint64_t tiles = (columns + width - 1) / width;
  const uint64_t budget = ctx.target().bytesPerTile / 4;
  if (rows * width * bytes > budget) {
    throw CompileError(ctx.where() + ": Gather with run-time indices needs " + std::to_string(rows * width * bytes) +
                       " bytes of the table on each tile (" + std::to_string(rows) + " rows of " +
                       std::to_string(width) + " columns), more than the " + std::to_string(budget) + "-byte budget");
  }
  auto widthOf = [&](uint64_t t) { return std::min(width, columns - t * width); };
  // Calls visit(o, j, c, n) for each run [c, c + n) of tile t's columns within one outer index.
  auto forEachSegment = [&](uint64_t t, const std::function<void(uint64_t, uint64_t, uint64_t, uint64_t)>& visit) {
    const uint64_t in = static_cast<uint64_t>(inner);
    for (uint64_t c = t * width, end = c + widthOf(t); c < end;) {
      const uint64_t o = c / in, j = c % in, n = std::min(end - c, in - j);
      visit(o, j, c, n);
      c += n;
    }
  };

  // The table in column blocks: tile t holds rows x widthOf(t) elements from t * width * rows.
  std::vector<TileSpan> blockMapping, rowsMapping;
  for (uint64_t t = 0; t < tiles; ++t) {
    blockMapping.push_back({static_cast<uint32_t>(t), t * width * rows, rows * widthOf(t)});
    rowsMapping.push_back({static_cast<uint32_t>(t), t * width * indices, indices * widthOf(t)});
  }
  const Shape blockShape{static_cast<int64_t>(rows * columns)};
  const uint32_t columnsExchange = b.addExchange(ctx.name() + "/columns");
  uint32_t blockVar;
  if (const ConstTensor* table = ctx.constantInput(0)) {
    ConstTensor blocks{dtype, blockShape, std::vector<uint8_t>(table->bytes.size())};
    for (uint64_t t = 0; t < tiles; ++t) {
      forEachSegment(t, [&](uint64_t o, uint64_t j, uint64_t c, uint64_t n) {
        for (uint64_t r = 0; r < rows; ++r) {
          const uint64_t from = (o * rows + r) * static_cast<uint64_t>(inner) + j;
          const uint64_t to = t * width * rows + r * widthOf(t) + (c - t * width);
          std::memcpy(blocks.bytes.data() + to * bytes, table->bytes.data() + from * bytes, n * bytes);
        }
      });
    }
    blockVar = b.addConstant(ctx.name() + "/table_columns", blocks, blockMapping);
  } else {
    constexpr uint64_t kMaxCopies = uint64_t{1} << 21;  // keeps compile time and exchange code bounded
    if (rows * tiles > kMaxCopies) {
      throw CompileError(ctx.where() + ": Gather with run-time indices over a run-time table of " + std::to_string(rows) +
                         " rows would need " + std::to_string(rows * tiles) + " copies to lay it out; make the table constant");
    }
    const uint32_t tableVar = ctx.input(0).var;
    blockVar = b.addVariable(ctx.name() + "/table_columns", dtype, blockShape, blockMapping);
    for (uint64_t t = 0; t < tiles; ++t) {
      forEachSegment(t, [&](uint64_t o, uint64_t j, uint64_t c, uint64_t n) {
        for (uint64_t r = 0; r < rows; ++r) {
          b.addCopy(columnsExchange, {tableVar, (o * rows + r) * static_cast<uint64_t>(inner) + j, n}, blockVar,
                    t * width * rows + r * widthOf(t) + (c - t * width));
        }
      });
    }
  }
  const TileOperand indexCopies = placeWholeNearOutput(ctx, columnsExchange, "indices", ctx.input(1), rowsMapping);

  // Each tile's selected rows, [indices x widthOf(t)], split over the workers by index.
  const uint32_t rowsVar = b.addVariable(ctx.name() + "/rows", dtype, {static_cast<int64_t>(indices * columns)}, rowsMapping);
  const uint32_t computeSet = b.addComputeSet(ctx.name());
  const std::string codelet = codeletName("GatherRows", dtype);
  const uint64_t perWorker = (indices + ctx.target().workerContexts - 1) / ctx.target().workerContexts;
  for (uint64_t t = 0; t < tiles; ++t) {
    for (uint64_t q = 0; q < indices; q += perWorker) {
      const uint64_t n = std::min(perWorker, indices - q);
      b.addVertex(computeSet, codelet, static_cast<uint32_t>(t),
                  {{{blockVar, t * width * rows, rows * widthOf(t)}},
                   {indexCopies.perSpan[t]},
                   {{rowsVar, t * width * indices + q * widthOf(t), n * widthOf(t)}}},
                  {static_cast<int64_t>(rows), static_cast<int64_t>(widthOf(t)), dtypeScalar(ctx, 1), static_cast<int64_t>(q)});
    }
  }

  const uint32_t outVar = b.addVariable(ctx.outputVariableName(0), dtype, outInfo.shape);
  const uint32_t placeExchange = b.addExchange(ctx.name() + "/rows_to_output");
  for (uint64_t t = 0; t < tiles; ++t) {
    forEachSegment(t, [&](uint64_t o, uint64_t j, uint64_t c, uint64_t n) {
      for (uint64_t q = 0; q < indices; ++q) {
        b.addCopy(placeExchange, {rowsVar, t * width * indices + q * widthOf(t) + (c - t * width), n}, outVar,
                  (o * indices + q) * static_cast<uint64_t>(inner) + j);
      }
    });
  }
  b.exchange(columnsExchange);
  b.execute(computeSet);
  b.exchange(placeExchange);
  ctx.setOutput(0, {outVar, dtype, outInfo.shape});
}


void lowerGather(LoweringContext& ctx) {
  const Shape& data = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  const size_t axis = static_cast<size_t>(normaliseAxis(ctx, ctx.intAttribute("axis", 0), static_cast<int64_t>(data.size())));
  const int64_t axisLength = data[axis];
  const int64_t outer = product(data, 0, axis), inner = product(data, axis + 1, data.size());
  const int64_t count = elementCount(ctx.inputInfo(1).shape);
  if (outer * count * inner != elementCount(out)) throw CompileError(ctx.where() + ": the output shape is inconsistent");

  if (auto indices = constantInts(ctx, 1)) {
    // The output viewed as [outer, indices, inner].
    SeparableIndexMap map{{outer, count, inner}, {{}, {}, {}}, 0};
    for (int64_t o = 0; o < outer; ++o) map.axisOffsets[0].push_back(o * axisLength * inner);
    for (int64_t index : *indices) map.axisOffsets[1].push_back(wrapConstantIndex(ctx, index, axisLength) * inner);
    for (int64_t j = 0; j < inner; ++j) map.axisOffsets[2].push_back(j);
    lowerIndexMapped(ctx, 0, map);
    return;
  }
  const uint64_t bytes = dtypeSize(ctx.inputInfo(0).dtype);
  const TensorInfo& outInfo = ctx.outputInfo(0);
  const uint64_t perOuterSlab = static_cast<uint64_t>(axisLength * inner);
  uint64_t widestSlab = 0;  // the most outer slabs one output span covers, in elements
  for (const TileSpan& span : linearMapping(static_cast<uint64_t>(elementCount(out)), outInfo.dtype, ctx.target())) {
    const uint64_t perOuter = static_cast<uint64_t>(count * inner);
    widestSlab = std::max(widestSlab, ((span.first + span.count - 1) / perOuter - span.first / perOuter + 1) * perOuterSlab);
  }
  if (widestSlab * bytes <= ctx.target().bytesPerTile / 4) {
    lowerGatherBySlabs(ctx, axisLength, inner, count);
  } else {
    lowerGatherByColumns(ctx, axisLength, outer, inner, count);
  }
}

// ---- GatherElements ----

void lowerGatherElements(LoweringContext& ctx) {
  const Shape& data = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  const int64_t rank = static_cast<int64_t>(data.size());
  const size_t axis = static_cast<size_t>(normaliseAxis(ctx, ctx.intAttribute("axis", 0), rank));
  if (ctx.inputInfo(1).shape != out) throw CompileError(ctx.where() + ": indices and output shapes differ");
  const std::vector<int64_t> dataStrides = stridesOf(data), outStrides = stridesOf(out);

  if (auto indices = constantInts(ctx, 1)) {
    GraphBuilder& b = ctx.builder();
    const TensorValue in = ctx.input(0);
    const uint32_t outVar = b.addVariable(ctx.outputVariableName(0), ctx.outputInfo(0).dtype, out);
    const uint32_t exchange = b.addExchange(ctx.name());
    copyByIndexMap(b, exchange, in.var, outVar, static_cast<uint64_t>(elementCount(out)), [&](uint64_t e) {
      int64_t from = 0;
      for (size_t d = 0; d < out.size(); ++d) {
        const int64_t at = static_cast<int64_t>(e) / outStrides[d] % out[d];
        from += (d == axis ? wrapConstantIndex(ctx, (*indices)[e], data[d]) : at) * dataStrides[d];
      }
      return from;
    });
    b.exchange(exchange);
    ctx.setOutput(0, {outVar, ctx.outputInfo(0).dtype, out});
    return;
  }
  DynamicLowering dynamic;
  dynamic.place = [&](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{placeWholeNearOutput(ctx, exchange, "data", ctx.input(0), spans),
                                    alignWithOutput(ctx, exchange, "indices", ctx.input(1), spans)};
  };
  dynamic.scalarsOf = chunkScalars(
      withShapes({dtypeScalar(ctx, 1), static_cast<int64_t>(axis), rank}, {&data, &out}), true);
  lowerDynamic(ctx, codeletName("GatherElements", ctx.outputInfo(0).dtype), std::move(dynamic));
}

// ---- GatherND ----

void lowerGatherND(LoweringContext& ctx) {
  const Shape& data = ctx.inputInfo(0).shape;
  const Shape& indicesShape = ctx.inputInfo(1).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  const size_t batchDims = static_cast<size_t>(ctx.intAttribute("batch_dims", 0));
  if (indicesShape.empty() || batchDims >= indicesShape.size()) throw CompileError(ctx.where() + ": bad indices rank");
  const size_t k = static_cast<size_t>(indicesShape.back());
  if (batchDims + k > data.size()) throw CompileError(ctx.where() + ": index tuples are longer than the data's rank");

  if (auto indices = constantInts(ctx, 1)) {
    GraphBuilder& b = ctx.builder();
    const std::vector<int64_t> strides = stridesOf(data);
    const int64_t sliceSize = product(data, batchDims + k, data.size());
    const int64_t batchSize = product(data, batchDims, data.size());
    const int64_t tuplesPerBatch = product(indicesShape, batchDims, indicesShape.size() - 1);
    const TensorValue in = ctx.input(0);
    const uint32_t outVar = b.addVariable(ctx.outputVariableName(0), ctx.outputInfo(0).dtype, out);
    const uint32_t exchange = b.addExchange(ctx.name());
    copyByIndexMap(b, exchange, in.var, outVar, static_cast<uint64_t>(elementCount(out)), [&](uint64_t e) {
      const int64_t tuple = static_cast<int64_t>(e) / sliceSize;
      int64_t from = tuple / tuplesPerBatch * batchSize + static_cast<int64_t>(e) % sliceSize;
      for (size_t m = 0; m < k; ++m) {
        from += wrapConstantIndex(ctx, (*indices)[static_cast<size_t>(tuple) * k + m], data[batchDims + m]) *
                strides[batchDims + m];
      }
      return from;
    });
    b.exchange(exchange);
    ctx.setOutput(0, {outVar, ctx.outputInfo(0).dtype, out});
    return;
  }
  DynamicLowering dynamic;
  dynamic.place = [&](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{placeWholeNearOutput(ctx, exchange, "data", ctx.input(0), spans),
                                    placeWholeNearOutput(ctx, exchange, "indices", ctx.input(1), spans)};
  };
  std::vector<int64_t> common{dtypeScalar(ctx, 1), static_cast<int64_t>(batchDims), static_cast<int64_t>(data.size())};
  common = withShapes(std::move(common), {&data});
  common.push_back(static_cast<int64_t>(indicesShape.size()));
  common = withShapes(std::move(common), {&indicesShape});
  dynamic.scalarsOf = chunkScalars(std::move(common), true);
  lowerDynamic(ctx, codeletName("GatherND", ctx.outputInfo(0).dtype), std::move(dynamic));
}

// ---- ScatterElements (and its deprecated name Scatter) and ScatterND ----

layout::ScatterReduction reductionOf(const LoweringContext& ctx) {
  const auto* attr = ctx.attribute("reduction");
  const std::string name = attr ? attr->s() : "none";
  const auto reduction = layout::scatterReductionFromName(name);
  if (!reduction) throw CompileError(ctx.where() + ": reduction '" + name + "' is not supported");
  return *reduction;
}

// The output is laid out linearly; the data is brought into that layout, indices and
// updates are copied whole to every output tile, where each update that lands is applied.
void lowerScatter(LoweringContext& ctx, const std::string& codelet, std::vector<int64_t> common) {
  DynamicLowering dynamic;
  dynamic.place = [&](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{alignWithOutput(ctx, exchange, "data", ctx.input(0), spans),
                                    placeWholeNearOutput(ctx, exchange, "indices", ctx.input(1), spans),
                                    placeWholeNearOutput(ctx, exchange, "updates", ctx.input(2), spans)};
  };
  dynamic.scalarsOf = chunkScalars(std::move(common), false);
  lowerDynamic(ctx, codeletName(codelet, ctx.outputInfo(0).dtype), std::move(dynamic));
}

void lowerScatterElements(LoweringContext& ctx) {
  const Shape& data = ctx.inputInfo(0).shape;
  const Shape& indices = ctx.inputInfo(1).shape;
  const int64_t rank = static_cast<int64_t>(data.size());
  if (indices.size() != data.size() || ctx.inputInfo(2).shape != indices) {
    throw CompileError(ctx.where() + ": data, indices and updates must have the same rank, indices the updates' shape");
  }
  const int64_t axis = normaliseAxis(ctx, ctx.intAttribute("axis", 0), rank);
  lowerScatter(ctx, "ScatterElements",
               withShapes({dtypeScalar(ctx, 1), static_cast<int64_t>(reductionOf(ctx)), axis, rank}, {&data, &indices}));
}

void lowerScatterND(LoweringContext& ctx) {
  const Shape& data = ctx.inputInfo(0).shape;
  const Shape& indices = ctx.inputInfo(1).shape;
  if (indices.empty() || static_cast<size_t>(indices.back()) > data.size()) {
    throw CompileError(ctx.where() + ": index tuples are longer than the data's rank");
  }
  std::vector<int64_t> common{dtypeScalar(ctx, 1), static_cast<int64_t>(reductionOf(ctx)),
                              static_cast<int64_t>(data.size())};
  common = withShapes(std::move(common), {&data});
  common.push_back(static_cast<int64_t>(indices.size()));
  lowerScatter(ctx, "ScatterND", withShapes(std::move(common), {&indices}));
}

// ---- OneHot ----

void lowerOneHot(LoweringContext& ctx) {
  const Shape& indices = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  const size_t axis = static_cast<size_t>(normaliseAxis(ctx, ctx.intAttribute("axis", -1), static_cast<int64_t>(out.size())));
  const int64_t depth = out[axis];
  const int64_t outer = product(indices, 0, axis), inner = product(indices, axis, indices.size());
  if (outer * depth * inner != elementCount(out)) throw CompileError(ctx.where() + ": the output shape is inconsistent");
  const int64_t perOuter = depth * inner;
  auto indicesRange = [=](const TileSpan& span) {
    const int64_t first = static_cast<int64_t>(span.first) / perOuter;
    const int64_t last = static_cast<int64_t>(span.first + span.count - 1) / perOuter;
    return ElementRange{static_cast<uint64_t>(first * inner), static_cast<uint64_t>((last - first + 1) * inner)};
  };
  DynamicLowering dynamic;
  dynamic.place = [&](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{placeNearOutput(ctx, exchange, "indices", ctx.input(0), spans, indicesRange),
                                    placeWholeNearOutput(ctx, exchange, "depth", ctx.input(1), spans),
                                    placeWholeNearOutput(ctx, exchange, "values", ctx.input(2), spans)};
  };
  const int64_t indicesType = dtypeScalar(ctx, 0), depthType = dtypeScalar(ctx, 1);
  dynamic.scalarsOf = [=](const TileSpan& chunk, const TileSpan& span) {
    return std::vector<int64_t>{static_cast<int64_t>(chunk.first), indicesType, depthType, outer, depth, inner,
                                static_cast<int64_t>(indicesRange(span).first)};
  };
  lowerDynamic(ctx, codeletName("OneHot", ctx.outputInfo(0).dtype), std::move(dynamic));
}

// ---- Compress: an index map when the condition is constant ----

void lowerCompress(LoweringContext& ctx) {
  const Shape& data = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  const auto condition = constantInts(ctx, 1);
  if (!condition) {
    throw CompileError(ctx.where() + ": Compress with a run-time condition has a data-dependent output shape; only a "
                       "constant condition is supported");
  }
  const auto* axisAttr = ctx.attribute("axis");
  const size_t axis = axisAttr ? static_cast<size_t>(normaliseAxis(ctx, axisAttr->i(), static_cast<int64_t>(data.size()))) : 0;
  // Without an axis the data is flattened first.
  const int64_t length = axisAttr ? data[axis] : elementCount(data);
  const int64_t outer = axisAttr ? product(data, 0, axis) : 1;
  const int64_t inner = axisAttr ? product(data, axis + 1, data.size()) : 1;
  SeparableIndexMap map{{outer, 0, inner}, {{}, {}, {}}, 0};
  for (int64_t o = 0; o < outer; ++o) map.axisOffsets[0].push_back(o * length * inner);
  for (int64_t i = 0; i < std::min<int64_t>(length, static_cast<int64_t>(condition->size())); ++i)
    if ((*condition)[static_cast<size_t>(i)] != 0) map.axisOffsets[1].push_back(i * inner);
  map.outShape[1] = static_cast<int64_t>(map.axisOffsets[1].size());
  for (int64_t j = 0; j < inner; ++j) map.axisOffsets[2].push_back(j);
  if (elementCount(map.outShape) != elementCount(out)) {
    throw CompileError(ctx.where() + ": the condition selects " + std::to_string(map.outShape[1]) +
                       " slices, which disagrees with the inferred output shape " + shapeString(out));
  }
  lowerIndexMapped(ctx, 0, map);
}

const char* const kGatherMapping =
    "constant indices: output mapped linearly, maximal runs copied by one exchange; run-time indices: the source slab "
    "and indices copied next to each output chunk, selected there by a codelet";
const char* const kScatterMapping =
    "output mapped linearly; data exchanged into that layout, indices and updates copied to every output tile, "
    "applied there in order by a codelet";

}  // namespace

void registerGatherLowerings(LoweringRegistry& registry) {
  const std::vector<DType> all = allDTypes();
  registry.add({"Gather", 1, kNewestOpset, all, kGatherMapping, lowerGather});
  registry.add({"GatherElements", 11, kNewestOpset, all, kGatherMapping, lowerGatherElements});
  registry.add({"GatherND", 11, kNewestOpset, all, kGatherMapping, lowerGatherND});
  registry.add({"Scatter", 9, 10, all, kScatterMapping, lowerScatterElements});
  registry.add({"ScatterElements", 11, kNewestOpset, all, kScatterMapping, lowerScatterElements});
  registry.add({"ScatterND", 11, kNewestOpset, all, kScatterMapping, lowerScatterND});
  registry.add({"OneHot", 9, kNewestOpset, all,
                "output mapped linearly; the indices of each chunk, depth and values copied next to it; OneHot vertices",
                lowerOneHot});
  registry.add({"Compress", 9, kNewestOpset, all,
                "constant condition only: output mapped linearly, selected slices copied by one exchange", lowerCompress});
}

}  // namespace ipusim
