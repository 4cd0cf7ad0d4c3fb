// CumSum and TopK work along one axis, so each line along the axis must be on one tile.
// The input viewed as [outer, axis, inner] is cut into blocks [axis, width] (width columns
// of the inner dimension; width 1 when the axis is innermost). Lines that already lie
// whole in one tile span are read in place; otherwise one exchange gathers the blocks,
// spread over tiles in order. One vertex per worker chunk of a tile's blocks computes the
// result blocks ([axis, width] for CumSum, [k, width] for TopK), which are the output
// itself when the axis is innermost, and are exchanged into a linearly mapped output
// otherwise.
#include <algorithm>
#include <cmath>
#include <map>

#include "compiler/compiler.h"
#include "compiler/lowering/indexed_step.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "compiler/lowering/reduction.h"

namespace ipusim {

namespace {

const std::vector<DType> kScanTypes = {DType::Float32, DType::Float16, DType::Int32, DType::UInt32, DType::Int64};
const std::vector<DType> kTopKTypes = {DType::Float32, DType::Float16, DType::Int8,  DType::UInt8,
                                       DType::Int32,   DType::UInt32,  DType::Int64};

// A block holds more than this many elements only when one line is longer (assumption:
// 16 KiB of fp32 keeps blocks well inside a tile while leaving whole lines together).
constexpr uint64_t kMaxBlockElements = 4096;
// A line must fit one tile next to its result and buffers.
constexpr uint64_t kMaxLineBytes = 128 * 1024;

struct Block {
  uint64_t outer = 0, column = 0, width = 0;
  uint32_t tile = 0;
  size_t span = 0;     // the input span holding it (blocks of different spans never share a slice)
  uint64_t inAt = 0;   // first element in the input (in place) or the gather buffer
  uint64_t outAt = 0;  // first element in the result buffer
};

struct BlockPlan {
  uint64_t outer = 1, axis = 1, inner = 1;
  std::vector<uint32_t> inVars;  // x's blocks, then each companion's, laid out alike
  std::vector<Block> blocks;
};

// Blocks of `x` along `axisDim`, placed on tiles (in place when each line lies in one span).
// `companions` (x's shape, mapped like x) are gathered alongside into the same layout.
BlockPlan planBlocks(GraphBuilder& b, const std::string& name, const TensorValue& x, size_t axisDim,
                     const LoweringContext& ctx, const std::vector<TensorValue>& companions = {}) {
  BlockPlan plan;
  for (size_t d = 0; d < axisDim; ++d) plan.outer *= static_cast<uint64_t>(x.shape[d]);
  plan.axis = static_cast<uint64_t>(x.shape[axisDim]);
  for (size_t d = axisDim + 1; d < x.shape.size(); ++d) plan.inner *= static_cast<uint64_t>(x.shape[d]);
  if (plan.axis * dtypeSize(x.dtype) > kMaxLineBytes) {
    throw CompileError(ctx.where() + ": " + ctx.node().op_type() + " along an axis of " + std::to_string(plan.axis) +
                       " elements is not supported (a line must fit on one tile)");
  }
  const uint64_t width = std::clamp<uint64_t>(kMaxBlockElements / std::max<uint64_t>(plan.axis, 1), 1, plan.inner);
  for (uint64_t o = 0; o < plan.outer; ++o)
    for (uint64_t c = 0; c < plan.inner; c += width) plan.blocks.push_back({o, c, std::min(width, plan.inner - c)});
  plan.inVars.assign(1 + companions.size(), 0);
  if (plan.blocks.empty() || plan.axis == 0) return plan;

  const VariableDesc& xVar = b.variable(x.var);
  bool inPlace = plan.inner == 1;
  for (Block& block : plan.blocks) {
    if (!inPlace) break;
    const uint64_t first = block.outer * plan.axis;
    const TileSpan& span = spanContaining(xVar, first);
    inPlace = first + plan.axis <= span.first + span.count;
    for (const TensorValue& c : companions) {
      const TileSpan& other = spanContaining(b.variable(c.var), first);
      inPlace = inPlace && other.tile == span.tile && first + plan.axis <= other.first + other.count;
    }
    block.tile = span.tile;
    block.span = static_cast<size_t>(&span - xVar.mapping.data());
    block.inAt = first;
  }
  if (inPlace) {
    plan.inVars[0] = x.var;
    for (size_t i = 0; i < companions.size(); ++i) plan.inVars[i + 1] = companions[i].var;
    return plan;
  }
  // Gather: blocks spread over tiles in order, at least 128 bytes of them per tile.
  const uint64_t blockBytes = plan.axis * width * dtypeSize(x.dtype);
  const uint64_t minBlocks = std::max<uint64_t>(1, (kMinBytesPerTile + blockBytes - 1) / blockBytes);
  const uint64_t count = plan.blocks.size();
  const uint64_t tiles = std::clamp<uint64_t>(count / minBlocks, 1, b.target().tiles);
  const uint64_t perTile = (count + tiles - 1) / tiles;
  std::vector<TileSpan> spans;
  uint64_t at = 0;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    Block& block = plan.blocks[i];
    block.tile = static_cast<uint32_t>(i / perTile);
    block.span = 0;  // the gather buffer has one span per tile
    block.inAt = at;
    const uint64_t elements = plan.axis * block.width;
    if (!spans.empty() && spans.back().tile == block.tile) spans.back().count += elements;
    else spans.push_back({block.tile, at, elements});
    at += elements;
  }
  const uint32_t exchange = b.addExchange(name + "/gather");
  std::vector<TensorValue> sources{x};
  sources.insert(sources.end(), companions.begin(), companions.end());
  for (size_t i = 0; i < sources.size(); ++i) {
    plan.inVars[i] = b.addVariable(name + "/lines" + (i ? std::to_string(i) : ""), sources[i].dtype,
                                   {static_cast<int64_t>(at)}, spans);
    for (const Block& block : plan.blocks) {
      for (uint64_t a = 0; a < plan.axis; ++a) {
        const uint64_t src = (block.outer * plan.axis + a) * plan.inner + block.column;
        b.addCopy(exchange, {sources[i].var, src, block.width}, plan.inVars[i], block.inAt + a * block.width);
      }
    }
  }
  b.exchange(exchange);
  return plan;
}

// A result variable of `rows` rows per block, laid out block by block on the blocks' tiles;
// sets each block's outAt.
uint32_t addResultBuffer(GraphBuilder& b, const std::string& name, DType dtype, BlockPlan& plan, uint64_t rows,
                         const Shape& shapeIfNatural) {
  std::vector<TileSpan> spans;
  uint64_t at = 0;
  for (Block& block : plan.blocks) {
    block.outAt = at;
    const uint64_t elements = rows * block.width;
    if (elements == 0) continue;
    if (!spans.empty() && spans.back().tile == block.tile) spans.back().count += elements;
    else spans.push_back({block.tile, at, elements});
    at += elements;
  }
  // With the axis innermost, blocks are lines in order: the buffer is the output itself.
  const Shape shape = plan.inner == 1 ? shapeIfNatural : Shape{static_cast<int64_t>(at)};
  return b.addVariable(name, dtype, shape, spans);
}

// Runs of consecutive blocks on one tile with equal widths, contiguous in the input.
struct BlockRun {
  size_t first = 0, count = 0;
};

std::vector<BlockRun> blockRuns(const BlockPlan& plan) {
  std::vector<BlockRun> runs;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const Block& block = plan.blocks[i];
    if (!runs.empty()) {
      const Block& prev = plan.blocks[runs.back().first + runs.back().count - 1];
      if (prev.tile == block.tile && prev.span == block.span && prev.width == block.width &&
          prev.inAt + plan.axis * prev.width == block.inAt) {
        ++runs.back().count;
        continue;
      }
    }
    runs.push_back({i, 1});
  }
  return runs;
}

// Vertices over the runs, each run split into at most workerContexts chunks of blocks.
template <typename Scalars>
void emitBlocks(GraphBuilder& b, uint32_t computeSet, const std::string& codelet, const BlockPlan& plan,
                const std::vector<uint32_t>& outputs, uint64_t rows, Scalars&& scalars) {
  std::map<uint32_t, std::vector<BlockRun>> runsByTile;
  for (const BlockRun& run : blockRuns(plan)) runsByTile[plan.blocks[run.first].tile].push_back(run);
  for (const auto& [tile, runs] : runsByTile) {
    size_t total = 0;
    for (const BlockRun& run : runs) total += run.count;
    const size_t perVertex = (total + b.target().workerContexts - 1) / b.target().workerContexts;
    for (const BlockRun& run : runs) {
      for (size_t first = run.first; first < run.first + run.count; first += perVertex) {
        const size_t n = std::min(perVertex, run.first + run.count - first);
        const Block& block = plan.blocks[first];
        std::vector<std::vector<Slice>> fields;
        for (uint32_t in : plan.inVars) fields.push_back({{in, block.inAt, n * plan.axis * block.width}});
        for (uint32_t out : outputs) fields.push_back({{out, block.outAt, n * rows * block.width}});
        b.addVertex(computeSet, codelet, tile, std::move(fields), scalars(block.width));
      }
    }
  }
}

// Copies result blocks into a linearly mapped output [outer, rows, inner].
TensorValue scatterBlocks(GraphBuilder& b, const std::string& name, const BlockPlan& plan, uint32_t result,
                          DType dtype, const Shape& shape, uint64_t rows, uint32_t exchange) {
  const uint32_t out = b.addVariable(name, dtype, shape);
  for (const Block& block : plan.blocks) {
    for (uint64_t r = 0; r < rows; ++r) {
      b.addCopy(exchange, {result, block.outAt + r * block.width, block.width}, out,
                (block.outer * rows + r) * plan.inner + block.column);
    }
  }
  return {out, dtype, shape};
}

std::string typed(const std::string& op, DType dtype) { return op + "<" + std::string(dtypeName(dtype)) + ">"; }

// x's scan along `axisDim`, mapped by the block plan.
TensorValue scanAlong(GraphBuilder& b, const std::string& name, const TensorValue& x, size_t axisDim, int64_t exclusive,
                      int64_t reverse, const LoweringContext& ctx) {
  BlockPlan plan = planBlocks(b, name, x, axisDim, ctx);
  const uint32_t result = addResultBuffer(b, plan.inner == 1 ? name : name + "/result", x.dtype, plan, plan.axis, x.shape);
  const uint32_t cs = b.addComputeSet(name);
  if (plan.axis > 0) {
    emitBlocks(b, cs, typed("CumSum", x.dtype), plan, {result}, plan.axis, [&](uint64_t width) {
      return std::vector<int64_t>{static_cast<int64_t>(plan.axis), static_cast<int64_t>(width), exclusive, reverse};
    });
  }
  b.execute(cs);
  if (plan.inner == 1) return {result, x.dtype, x.shape};
  const uint32_t exchange = b.addExchange(name + "/scatter");
  const TensorValue out = scatterBlocks(b, name, plan, result, x.dtype, x.shape, plan.axis, exchange);
  b.exchange(exchange);
  return out;
}

// A long innermost axis is scanned in equal pieces of at most kScanPiece elements (and at
// least kMinScanPiece): the fewest pieces that divide the axis (1: no split).
constexpr uint64_t kScanPiece = 4096, kMinScanPiece = 64;

uint64_t scanPieces(uint64_t axis) {
  if (axis <= kScanPiece) return 1;
  for (uint64_t p = (axis + kScanPiece - 1) / kScanPiece; p <= axis / kMinScanPiece; ++p)
    if (axis % p == 0) return p;
  return 1;
}

void lowerCumSum(LoweringContext& ctx) {
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const std::vector<int64_t> axisValue = constantInts(ctx, 1, "axis input");
  if (axisValue.size() != 1) throw CompileError(ctx.where() + ": CumSum's axis must hold one value");
  if (rank == 0) throw CompileError(ctx.where() + ": CumSum needs an input of at least one dimension");
  const size_t axis = static_cast<size_t>(normaliseAxes(axisValue, rank, ctx.where())[0]);
  const std::string name = ctx.outputVariableName(0);
  const int64_t exclusive = ctx.intAttribute("exclusive", 0) != 0, reverse = ctx.intAttribute("reverse", 0) != 0;
  const bool innermost = axis + 1 == x.shape.size();
  const uint64_t length = static_cast<uint64_t>(x.shape[axis]);
  const uint64_t pieces = innermost ? scanPieces(length) : 1;
  if (pieces <= 1) {
    ctx.setOutput(0, scanAlong(b, name, x, axis, exclusive, reverse, ctx));
    return;
  }
  // Pieces scanned on many tiles; each piece's total; the totals scanned exclusively per
  // line into carries; every element plus its piece's carry.
  const int64_t lines = elementCount(x.shape) / static_cast<int64_t>(length);
  const int64_t p = static_cast<int64_t>(pieces), piece = static_cast<int64_t>(length / pieces);
  const TensorValue view{x.var, x.dtype, {lines * p, piece}};
  TensorValue scanned = scanAlong(b, name + "/pieces", view, 1, exclusive, reverse, ctx);
  ReduceSpec total;
  total.axes = {1};
  total.outDtype = x.dtype;
  TensorValue totals = reduceTensor(b, name + "/totals", view, total, {lines, p});
  const TensorValue carries = scanAlong(b, name + "/carries", totals, 1, 1, reverse, ctx);
  const Shape pieceShape{lines, p, piece};
  scanned.shape = pieceShape;
  TensorValue out = indexedStep(b, name, typed("IndexedAdd", x.dtype),
                                {broadcastOperand(scanned, pieceShape),
                                 broadcastOperand({carries.var, carries.dtype, {lines, p, 1}}, pieceShape)},
                                x.dtype, pieceShape, mappingLike(b, scanned, x.dtype));
  out.shape = x.shape;
  ctx.setOutput(0, out);
}

// Equal pieces to split a line of `axis` elements into for TopK: about sqrt(axis / k), so
// that a piece and a line's candidates (pieces x k) take similar work; a divisor of the
// axis, each piece at least 2k and kMinTopKPiece long. 1: do not split.
constexpr uint64_t kMinTopKPiece = 256;

uint64_t topKPieces(uint64_t axis, uint64_t k) {
  if (k == 0 || axis < 4 * kMinTopKPiece) return 1;
  const uint64_t most = std::min<uint64_t>(static_cast<uint64_t>(std::sqrt(static_cast<double>(axis) / k)),
                                           axis / std::max<uint64_t>(2 * k, kMinTopKPiece));
  for (uint64_t p = most; p >= 2; --p)
    if (axis % p == 0) return p;
  return 1;
}

void lowerTopK(LoweringContext& ctx, bool kFromInput) {
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) throw CompileError(ctx.where() + ": TopK needs an input of at least one dimension");
  const size_t axis = static_cast<size_t>(normaliseAxes({ctx.intAttribute("axis", -1)}, rank, ctx.where())[0]);
  int64_t k = ctx.intAttribute("k", -1);
  if (kFromInput && !ctx.constantInput(1)) {
    // k known only at run time: the model's static output shape fixes it.
    const Shape& out = ctx.outputInfo(0).shape;
    if (out.size() != x.shape.size()) throw CompileError(ctx.where() + ": TopK's output rank does not match its input's");
    k = out[axis];
  } else if (kFromInput) {
    const std::vector<int64_t> values = constantInts(ctx, 1, "k");
    if (values.size() != 1) throw CompileError(ctx.where() + ": TopK's k must hold one value");
    k = values[0];
  }
  if (k < 0 || k > x.shape[axis]) {
    throw CompileError(ctx.where() + ": TopK's k = " + std::to_string(k) + " is outside [0, " +
                       std::to_string(x.shape[axis]) + "]");
  }
  // sorted=0 leaves the order to the implementation; ipusim always sorts.
  const int64_t largest = ctx.intAttribute("largest", 1) != 0;
  Shape outShape = x.shape;
  outShape[axis] = k;
  const std::string valuesName = ctx.outputVariableName(0), indicesName = ctx.outputVariableName(1);
  uint64_t inner = 1;
  for (size_t d = axis + 1; d < x.shape.size(); ++d) inner *= static_cast<uint64_t>(x.shape[d]);
  const uint64_t pieces = inner == 1 ? topKPieces(static_cast<uint64_t>(x.shape[axis]), static_cast<uint64_t>(k)) : 1;
  if (pieces > 1) {
    // Long innermost lines: the top k of each of `pieces` equal pieces (spread over tiles),
    // then the top k of those candidates per line (popnn's topK reduces in stages too).
    const uint64_t length = static_cast<uint64_t>(x.shape[axis]) / pieces;
    const uint64_t lines = static_cast<uint64_t>(elementCount(x.shape)) / static_cast<uint64_t>(x.shape[axis]);
    const TensorValue piecesView{x.var, x.dtype, {static_cast<int64_t>(lines * pieces), static_cast<int64_t>(length)}};
    const Shape candidateShape{static_cast<int64_t>(lines), static_cast<int64_t>(pieces) * k};
    BlockPlan first = planBlocks(b, valuesName + "/pieces", piecesView, 1, ctx);
    const TensorValue values{addResultBuffer(b, valuesName + "/candidates", x.dtype, first, static_cast<uint64_t>(k),
                                             candidateShape),
                             x.dtype, candidateShape};
    const TensorValue positions{addResultBuffer(b, indicesName + "/candidates", DType::Int64, first,
                                                static_cast<uint64_t>(k), candidateShape),
                                DType::Int64, candidateShape};
    const uint32_t cs = b.addComputeSet(valuesName + "/pieces");
    emitBlocks(b, cs, typed("TopK", x.dtype), first, {values.var, positions.var}, static_cast<uint64_t>(k),
               [&](uint64_t width) {
                 return std::vector<int64_t>{static_cast<int64_t>(length), static_cast<int64_t>(width), k, largest};
               });
    b.execute(cs);
    BlockPlan second = planBlocks(b, valuesName + "/merge", values, 1, ctx, {positions});
    const uint32_t outValues = addResultBuffer(b, valuesName, x.dtype, second, static_cast<uint64_t>(k), outShape);
    const uint32_t outIndices = addResultBuffer(b, indicesName, DType::Int64, second, static_cast<uint64_t>(k), outShape);
    const uint32_t merge = b.addComputeSet(valuesName);
    emitBlocks(b, merge, typed("TopKMerge", x.dtype), second, {outValues, outIndices}, static_cast<uint64_t>(k),
               [&](uint64_t width) {
                 return std::vector<int64_t>{static_cast<int64_t>(pieces) * k, static_cast<int64_t>(width), k, largest,
                                             static_cast<int64_t>(length), k};
               });
    b.execute(merge);
    ctx.setOutput(0, {outValues, x.dtype, outShape});
    ctx.setOutput(1, {outIndices, DType::Int64, outShape});
    return;
  }
  BlockPlan plan = planBlocks(b, valuesName, x, axis, ctx);
  const uint64_t rows = static_cast<uint64_t>(k);
  const bool natural = plan.inner == 1;
  const uint32_t values = addResultBuffer(b, natural ? valuesName : valuesName + "/result", x.dtype, plan, rows, outShape);
  const uint32_t indices =
      addResultBuffer(b, natural ? indicesName : indicesName + "/result", DType::Int64, plan, rows, outShape);
  const uint32_t cs = b.addComputeSet(valuesName);
  if (rows > 0) {
    emitBlocks(b, cs, typed("TopK", x.dtype), plan, {values, indices}, rows, [&](uint64_t width) {
      return std::vector<int64_t>{static_cast<int64_t>(plan.axis), static_cast<int64_t>(width), k, largest};
    });
  }
  b.execute(cs);
  if (natural) {
    ctx.setOutput(0, {values, x.dtype, outShape});
    ctx.setOutput(1, {indices, DType::Int64, outShape});
    return;
  }
  const uint32_t exchange = b.addExchange(valuesName + "/scatter");
  ctx.setOutput(0, scatterBlocks(b, valuesName, plan, values, x.dtype, outShape, rows, exchange));
  ctx.setOutput(1, scatterBlocks(b, indicesName, plan, indices, DType::Int64, outShape, rows, exchange));
  b.exchange(exchange);
}

const char* const kLineMapping =
    "lines along the axis kept whole on a tile (read in place, or gathered by one exchange into blocks "
    "[axis, width] spread over tiles); one vertex per worker chunk of a tile's blocks; results are the output "
    "when the axis is innermost, else exchanged into a linear output. Long innermost lines are split into "
    "pieces over tiles: TopK merges the pieces' candidates per line, CumSum adds each piece's carry";

}  // namespace

void registerScanLowerings(LoweringRegistry& registry) {
  registry.add({"CumSum", 11, kNewestOpset, kScanTypes, kLineMapping, lowerCumSum});
  // TopK-1 takes k as an attribute, TopK-10 as an input; TopK-11 adds largest and sorted.
  registry.add({"TopK", 1, 9, kTopKTypes, kLineMapping, [](LoweringContext& ctx) { lowerTopK(ctx, false); }});
  registry.add({"TopK", 10, kNewestOpset, kTopKTypes, kLineMapping, [](LoweringContext& ctx) { lowerTopK(ctx, true); }});
}

}  // namespace ipusim
