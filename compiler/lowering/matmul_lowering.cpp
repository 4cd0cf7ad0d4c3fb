#include "compiler/lowering/matmul_lowering.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

#include "compiler/compiler.h"
#include "sim/codelet.h"
#include "sim/codelets/matmul_cost.h"
#include "sim/codelets/transpose_cost.h"

namespace ipusim {

namespace {

struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t size() const { return end - begin; }
};

Range blockRange(uint64_t part, uint64_t block, uint64_t size) {
  return {part * block, std::min(size, (part + 1) * block)};
}

// One tile's share of the product.
struct TileBlock {
  uint32_t tile = 0;
  uint64_t gPart = 0, mPart = 0, nPart = 0, kPart = 0;
  Range g, m, n, k;
  uint64_t outElements() const { return g.size() * m.size() * n.size(); }
};

std::vector<TileBlock> tileBlocks(const MatMulPlan& plan, uint32_t firstTile, uint32_t tiles) {
  const MatMulProblem& p = plan.problem;
  std::vector<TileBlock> blocks;
  blocks.reserve(plan.tiles());
  for (uint64_t gp = 0; gp < plan.groupParts; ++gp)
    for (uint64_t mp = 0; mp < plan.mParts; ++mp)
      for (uint64_t np = 0; np < plan.nParts; ++np)
        for (uint64_t kp = 0; kp < plan.kParts; ++kp) {
          TileBlock b;
          b.tile = static_cast<uint32_t>((uint64_t{plan.tileOf(gp, mp, np, kp)} + firstTile) % tiles);
          b.gPart = gp;
          b.mPart = mp;
          b.nPart = np;
          b.kPart = kp;
          b.g = blockRange(gp, plan.groupBlock, p.groups);
          b.m = blockRange(mp, plan.mBlock, p.m);
          b.n = blockRange(np, plan.nBlock, p.n);
          b.k = blockRange(kp, plan.kBlock, p.k);
          blocks.push_back(b);
        }
  return blocks;
}

// Calls f(run source element, run length) for the block [groups][rows][cols] of `view` in
// its tile layout ([rows][cols], or [cols][rows] when transposed), merging contiguous runs.
template <class F>
void forEachOperandRun(const MatMulOperandView& view, Range groups, Range rows, Range cols, bool transposed, F f) {
  for (uint64_t g = groups.begin; g < groups.end; ++g) {
    const uint64_t base = view.groupOffset.at(g);
    const Range outer = transposed ? cols : rows;
    const Range inner = transposed ? rows : cols;
    const uint64_t outerStride = transposed ? view.colStride : view.rowStride;
    const uint64_t innerStride = transposed ? view.rowStride : view.colStride;
    if (!view.rowOffsets.empty()) {  // a gathered view: merge consecutive sources into runs
      const std::vector<uint64_t>& outerAt = transposed ? view.colOffsets : view.rowOffsets;
      const std::vector<uint64_t>& innerAt = transposed ? view.rowOffsets : view.colOffsets;
      for (uint64_t o = outer.begin; o < outer.end; ++o) {
        uint64_t runFirst = base + outerAt[o] + innerAt[inner.begin], runLength = 1;
        for (uint64_t i = inner.begin + 1; i < inner.end; ++i) {
          const uint64_t source = base + outerAt[o] + innerAt[i];
          if (source == runFirst + runLength) {
            ++runLength;
            continue;
          }
          f(runFirst, runLength);
          runFirst = source;
          runLength = 1;
        }
        f(runFirst, runLength);
      }
      continue;
    }
    for (uint64_t o = outer.begin; o < outer.end; ++o) {
      const uint64_t first = base + o * outerStride + inner.begin * innerStride;
      if (innerStride == 1) {
        f(first, inner.size());
      } else {
        for (uint64_t i = 0; i < inner.size(); ++i) f(first + i * innerStride, 1);
      }
    }
  }
}

// Calls f(output element, length, offset in the block) for each row segment of elements
// [first, end) of a block, in block-row-major order ([g][m][n]).
template <class F>
void forEachOutputSegment(const TileBlock& block, uint64_t m, uint64_t n, uint64_t first, uint64_t end, F f) {
  const uint64_t nb = block.n.size(), mb = block.m.size();
  for (uint64_t e = first; e < end;) {
    const uint64_t row = e / nb, col = e % nb;
    const uint64_t length = std::min(nb - col, end - e);
    const uint64_t g = block.g.begin + row / mb, r = block.m.begin + row % mb;
    f((g * m + r) * n + block.n.begin + col, length, e);
    e += length;
  }
}

// As forEachOutputSegment for a swapped plan's block, stored transposed ([n][m] of one
// group): element e of it is output (g, m.begin + e % mb, n.begin + e / mb); consecutive
// block elements are a row apart in the output, so every run is one element.
template <class F>
void forEachTransposedElement(const TileBlock& block, uint64_t m, uint64_t n, uint64_t first, uint64_t end, F f) {
  const uint64_t mb = block.m.size();
  for (uint64_t e = first; e < end; ++e) {
    f((block.g.begin * m + block.m.begin + e % mb) * n + block.n.begin + e / mb, 1, e);
  }
}

// Sorted, merged spans of a variable whose pieces were collected in any order.
std::vector<TileSpan> sortedMapping(std::vector<TileSpan> spans) {
  std::sort(spans.begin(), spans.end(), [](const TileSpan& a, const TileSpan& b) { return a.first < b.first; });
  std::vector<TileSpan> merged;
  for (const TileSpan& span : spans) {
    if (!merged.empty() && merged.back().tile == span.tile && merged.back().first + merged.back().count == span.first) {
      merged.back().count += span.count;
    } else {
      merged.push_back(span);
    }
  }
  return merged;
}

// A per-tile buffer variable: one contiguous span per tile, in the order of `sizes`.
struct TileBuffer {
  std::vector<TileSpan> mapping;
  std::vector<uint64_t> base;  // first element of each entry
  uint64_t total = 0;
};

TileBuffer tileBuffer(const std::vector<TileBlock>& blocks, const std::vector<uint64_t>& sizes) {
  TileBuffer buffer;
  for (size_t i = 0; i < blocks.size(); ++i) {
    buffer.base.push_back(buffer.total);
    if (sizes[i] > 0) buffer.mapping.push_back({blocks[i].tile, buffer.total, sizes[i]});
    buffer.total += sizes[i];
  }
  return buffer;
}

// An operand's blocks on their tiles: a resident constant laid out at compile time, or a
// variable filled by copies in `exchange` (from a constant stored once when not resident).
uint32_t placeOperand(GraphBuilder& b, const std::string& name, MatMulOperandView view,
                      const std::vector<TileBlock>& blocks, bool isLhs, bool resident, bool transposed,
                      uint32_t exchange, std::vector<uint64_t>& base) {
  std::vector<uint64_t> sizes;
  for (const TileBlock& block : blocks) {
    sizes.push_back(block.g.size() * block.k.size() * (isLhs ? block.m.size() : block.n.size()));
  }
  TileBuffer buffer = tileBuffer(blocks, sizes);
  base = buffer.base;
  const Shape shape{static_cast<int64_t>(buffer.total)};
  if (view.constant != nullptr && !resident) {
    // Stored once, spread linearly, with each distinct block contiguous in its tile layout,
    // so that a tile's block is one copy (cut only where the store changes tile).
    const size_t bytes = dtypeSize(view.dtype);
    std::map<std::tuple<uint64_t, uint64_t, uint64_t>, uint64_t> storeOffset;
    std::vector<uint8_t> stored;
    std::vector<uint64_t> offsets;
    for (const TileBlock& block : blocks) {
      const auto key = std::make_tuple(block.gPart, isLhs ? block.mPart : block.kPart, isLhs ? block.kPart : block.nPart);
      auto [it, added] = storeOffset.emplace(key, stored.size() / bytes);
      if (added) {
        forEachOperandRun(view, block.g, isLhs ? block.m : block.k, isLhs ? block.k : block.n, transposed,
                          [&](uint64_t first, uint64_t length) {
                            const uint8_t* from = view.constant->bytes.data() + first * bytes;
                            stored.insert(stored.end(), from, from + length * bytes);
                          });
      }
      offsets.push_back(it->second);
    }
    const uint64_t storedElements = stored.size() / bytes;
    const uint32_t store = b.addConstant(name + "_store", {view.dtype, {static_cast<int64_t>(storedElements)}, std::move(stored)});
    const uint32_t var = b.addVariable(name, view.dtype, shape, std::move(buffer.mapping));
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (sizes[i] > 0) b.addCopy(exchange, {store, offsets[i], sizes[i]}, var, base[i]);
    }
    return var;
  }
  if (view.constant != nullptr) {
    const size_t bytes = dtypeSize(view.dtype);
    ConstTensor value{view.dtype, shape, {}};
    value.bytes.resize(buffer.total * bytes);
    uint8_t* out = value.bytes.data();
    for (const TileBlock& block : blocks) {
      forEachOperandRun(view, block.g, isLhs ? block.m : block.k, isLhs ? block.k : block.n, transposed,
                        [&](uint64_t first, uint64_t length) {
                          std::memcpy(out, view.constant->bytes.data() + first * bytes, length * bytes);
                          out += length * bytes;
                        });
    }
    return b.addConstant(name, value, std::move(buffer.mapping));
  }
  const uint32_t var = b.addVariable(name, view.dtype, shape, std::move(buffer.mapping));
  for (size_t i = 0; i < blocks.size(); ++i) {
    uint64_t dst = base[i];
    const TileBlock& block = blocks[i];
    forEachOperandRun(view, block.g, isLhs ? block.m : block.k, isLhs ? block.k : block.n, transposed,
                      [&](uint64_t first, uint64_t length) {
                        b.addCopy(exchange, {view.var, first, length}, var, dst);
                        dst += length;
                      });
  }
  return var;
}

}  // namespace

uint64_t mostElementsOnATile(const VariableDesc& var) {
  std::vector<std::pair<uint32_t, uint64_t>> perTile;
  for (const TileSpan& span : var.mapping) perTile.emplace_back(span.tile, span.count);
  std::sort(perTile.begin(), perTile.end());
  uint64_t most = 0, current = 0;
  for (size_t i = 0; i < perTile.size(); ++i) {
    current = (i > 0 && perTile[i].first == perTile[i - 1].first) ? current + perTile[i].second : perTile[i].second;
    most = std::max(most, current);
  }
  return most;
}

MatMulOptions productOptions(const ImportedModel& model, const Target& target, uint64_t constantBytes) {
  MatMulOptions options;
  if (constantBytes == 0) return options;
  uint64_t modelBytes = 0;
  for (const auto& [name, value] : model.constants) modelBytes += value.bytes.size();
  const double share = static_cast<double>(constantBytes) / static_cast<double>(std::max(modelBytes, constantBytes));
  options.residentConstantBytesPerTile =
      static_cast<uint64_t>(share * kResidentConstantShare * static_cast<double>(target.bytesPerTile));
  return options;
}

// Tiles that linear mappings of small tensors crowd (assumption: 32 of 1472 leaves the
// products almost every tile).
constexpr uint64_t kCrowdedTiles = 32;

uint32_t tileForName(const std::string& name, const Target& target) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (char c : name) hash = (hash ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return static_cast<uint32_t>(hash % std::max<uint32_t>(1, target.tiles));
}

uint32_t firstTileAvoidingTileZero(const MatMulPlan& plan, const Target& target) {
  return target.tiles > plan.tiles() ? target.tiles - plan.tiles() : 0;
}

std::vector<TileSpan> rowMapping(const std::string& name, const Shape& shape, DType dtype, const Target& target) {
  // Whole rows (the innermost dimension) per tile, so that a later reduction or softmax
  // along rows stays on one tile; rows longer than kMaxRowBytes are spread linearly.
  constexpr uint64_t kMaxRowBytes = 4 * 1024;
  const uint64_t elements = static_cast<uint64_t>(elementCount(shape));
  const uint64_t rowLength = shape.empty() ? 1 : static_cast<uint64_t>(std::max<int64_t>(1, shape.back()));
  if (elements == 0 || rowLength * dtypeSize(dtype) > kMaxRowBytes) return linearMapping(elements, dtype, target);
  // A tensor of fewer rows than tiles starts at a tile chosen by its name, so that
  // the outputs of successive products, and what later ops lay out like them, do not all
  // crowd the same tiles.
  const uint64_t tiles = target.tiles;
  const uint64_t rows = elements / rowLength;
  const uint64_t rowsPerTile = (rows + tiles - 1) / tiles;
  // Tiles [0, kCrowdedTiles) are left out when the tensor fits elsewhere: the linear mappings
  // of small tensors (statistics, scalars) all start at tile 0.
  const uint64_t tilesNeeded = (rows + rowsPerTile - 1) / rowsPerTile;
  const uint64_t room = tiles > tilesNeeded + kCrowdedTiles ? tiles - tilesNeeded - kCrowdedTiles : 0;
  const uint64_t start = room > 0 ? kCrowdedTiles + tileForName(name, target) % room : 0;
  std::vector<TileSpan> mapping;
  for (uint64_t row = 0, tile = start; row < rows; row += rowsPerTile, ++tile) {
    mapping.push_back({static_cast<uint32_t>(tile % tiles), row * rowLength, std::min(rowsPerTile, rows - row) * rowLength});
  }
  std::sort(mapping.begin(), mapping.end(), [](const TileSpan& a, const TileSpan& b) { return a.first < b.first; });
  return mapping;
}

uint32_t emitMatMul(GraphBuilder& b, const MatMulPlan& plan, const MatMulEmission& e) {
  const MatMulProblem& p = plan.problem;
  if (!CodeletRegistry::instance().find(e.productCodelet)) {
    throw CompileError("internal: no codelet " + e.productCodelet);
  }
  const std::vector<TileBlock> blocks = tileBlocks(plan, e.firstTile, b.target().tiles);
  const bool amp = p.unit == MatMulUnit::Amp;
  // Blocks are stored in the order the source is contiguous in, so that each row of a block
  // is one copy; the AMP reads either order of lhs, worker code only [m][k].
  const bool lhsResident = e.lhs.constant != nullptr && plan.lhsResident;
  const bool rhsResident = e.rhs.constant != nullptr && plan.rhsResident;
  const bool lhsTransposed = amp && !lhsResident && e.lhs.colStride != 1 && e.lhs.rowStride == 1;
  // Swapped operands (plan.swapOperands): the AMP streams the rhs block's rows of k, so the
  // rhs is always stored [n][k] (a constant laid out so at compile time; a run-time view the
  // planner only swaps when it is contiguous along k), and its weights are the lhs block.
  const bool swapped = plan.swapOperands;
  if (swapped && (!amp || plan.groupBlock != 1)) throw CompileError("internal: a swapped plan needs AMP blocks of one group");
  const bool rhsTransposed = swapped || (!rhsResident && e.rhs.colStride != 1 && e.rhs.rowStride == 1);

  // 1. Operands.
  const uint32_t exchangeIn = b.addExchange(e.name + "/operands");
  std::vector<uint64_t> lhsBase, rhsBase;
  const uint32_t lhsVar =
      placeOperand(b, e.name + "/lhs", e.lhs, blocks, true, lhsResident, lhsTransposed, exchangeIn, lhsBase);
  const uint32_t rhsVar =
      placeOperand(b, e.name + "/rhs", e.rhs, blocks, false, rhsResident, rhsTransposed, exchangeIn, rhsBase);

  // Single elements every product tile needs (run-time zero points): one copy per tile.
  std::vector<std::optional<Slice>> broadcastFields;
  for (size_t f = 0; f < e.productBroadcastFields.size(); ++f) {
    const std::optional<Slice>& source = e.productBroadcastFields[f];
    if (!source) {
      broadcastFields.push_back(std::nullopt);
      continue;
    }
    std::vector<TileSpan> mapping;
    for (size_t i = 0; i < blocks.size(); ++i) mapping.push_back({blocks[i].tile, i, 1});
    const uint32_t var = b.addVariable(e.name + "/broadcast" + std::to_string(f), b.variable(source->var).dtype,
                                       {static_cast<int64_t>(blocks.size())}, std::move(mapping));
    for (size_t i = 0; i < blocks.size(); ++i) b.addCopy(exchangeIn, {source->var, source->first, 1}, var, i);
    broadcastFields.push_back(Slice{var, 0, 1});
  }
  auto broadcastSlices = [&](size_t i) {
    std::vector<std::vector<Slice>> fields;
    for (const auto& field : broadcastFields) {
      fields.push_back(field ? std::vector<Slice>{{field->var, i, 1}} : std::vector<Slice>{});
    }
    return fields;
  };

  // 2. Block products, into the output itself or into per-tile partials.
  const bool direct = plan.directOutput();
  uint32_t outVar = 0;
  uint32_t partialsVar = 0;
  std::vector<uint64_t> partialsBase;
  // A tidy output: the blocks (or reduced pieces) are written contiguously on their tiles,
  // and one exchange lays the output out in whole rows (rowMapping).
  uint32_t tileOutVar = 0;
  std::vector<uint64_t> tileOutBase;
  if (direct && e.tidyOutput && !swapped) {
    std::vector<uint64_t> sizes;
    for (const TileBlock& block : blocks) sizes.push_back(block.outElements());
    TileBuffer buffer = tileBuffer(blocks, sizes);
    tileOutBase = buffer.base;
    tileOutVar = b.addVariable(e.name + "/out_blocks", p.outputType, {static_cast<int64_t>(buffer.total)},
                               std::move(buffer.mapping));
  } else if (direct && !swapped) {
    std::vector<TileSpan> spans;
    for (const TileBlock& block : blocks) {
      forEachOutputSegment(block, p.m, p.n, 0, block.outElements(), [&](uint64_t first, uint64_t length, uint64_t) {
        spans.push_back({block.tile, first, length});
      });
    }
    outVar = b.addVariable(e.outputName, p.outputType, e.outputShape, sortedMapping(std::move(spans)));
  } else {
    std::vector<uint64_t> sizes;
    for (const TileBlock& block : blocks) sizes.push_back(block.outElements());
    TileBuffer buffer = tileBuffer(blocks, sizes);
    partialsBase = buffer.base;
    partialsVar = b.addVariable(e.name + "/partials", p.partialsType, {static_cast<int64_t>(buffer.total)},
                                std::move(buffer.mapping));
  }
  // The output slices of block elements [first, end), or the partials slice.
  auto productOut = [&](size_t i, uint64_t first, uint64_t end) {
    std::vector<Slice> slices;
    if (swapped) {
      slices.push_back({partialsVar, partialsBase[i] + first, end - first});
    } else if (direct && e.tidyOutput) {
      slices.push_back({tileOutVar, tileOutBase[i] + first, end - first});
    } else if (direct) {
      forEachOutputSegment(blocks[i], p.m, p.n, first, end, [&](uint64_t element, uint64_t length, uint64_t) {
        slices.push_back({outVar, element, length});
      });
    } else {
      slices.push_back({partialsVar, partialsBase[i] + first, end - first});
    }
    return slices;
  };

  const uint32_t product = b.addComputeSet(e.name + "/product");
  for (size_t i = 0; i < blocks.size(); ++i) {
    const TileBlock& block = blocks[i];
    const uint64_t gb = block.g.size(), mb = block.m.size(), kb = block.k.size(), nb = block.n.size();
    if (swapped) {
      // out^T = rhs^T x lhs^T: rows of n streamed ([n][k], the rhs block), passes of the lhs
      // block as the weights ([m][k] is the AMP's [outputs][inputs]; [k][m] when stored so).
      std::vector<int64_t> scalars{1, static_cast<int64_t>(nb), static_cast<int64_t>(kb), static_cast<int64_t>(mb), 0,
                                   lhsTransposed ? 0 : 1};
      b.addVertex(product, e.productCodelet, block.tile,
                  {{{rhsVar, rhsBase[i], kb * nb}}, {{lhsVar, lhsBase[i], mb * kb}}, productOut(i, 0, nb * mb)},
                  std::move(scalars));
      continue;
    }
    if (amp) {
      std::vector<int64_t> scalars{static_cast<int64_t>(gb), static_cast<int64_t>(mb), static_cast<int64_t>(kb),
                                   static_cast<int64_t>(nb), lhsTransposed ? 1 : 0, rhsTransposed ? 1 : 0};
      b.addVertex(product, e.productCodelet, block.tile,
                  {{{lhsVar, lhsBase[i], gb * mb * kb}}, {{rhsVar, rhsBase[i], gb * kb * nb}},
                   productOut(i, 0, block.outElements())},
                  std::move(scalars));
      continue;
    }
    for (uint64_t g = 0; g < gb; ++g) {
      uint64_t row = 0;
      for (uint64_t rows : vectorRowChunks(gb, mb, b.target())) {
        std::vector<int64_t> scalars{static_cast<int64_t>(rows), static_cast<int64_t>(kb), static_cast<int64_t>(nb),
                                     rhsTransposed ? 1 : 0};
        scalars.insert(scalars.end(), e.productExtraScalars.begin(), e.productExtraScalars.end());
        const uint64_t firstRow = g * mb + row;
        std::vector<std::vector<Slice>> fields{{{lhsVar, lhsBase[i] + firstRow * kb, rows * kb}},
                                               {{rhsVar, rhsBase[i] + g * kb * nb, kb * nb}},
                                               productOut(i, firstRow * nb, (firstRow + rows) * nb)};
        for (auto& field : broadcastSlices(i)) fields.push_back(std::move(field));
        b.addVertex(product, e.productCodelet, block.tile, std::move(fields), std::move(scalars));
        row += rows;
      }
    }
  }
  b.exchange(exchangeIn);
  b.execute(product);
  // The tidy exchange: output row segments of the blocks (or pieces) at tileOut[base + offset].
  auto tidy = [&](const std::vector<std::pair<size_t, std::pair<uint64_t, uint64_t>>>& parts) {
    outVar = b.addVariable(e.outputName, p.outputType, e.outputShape,
                           rowMapping(e.outputName, e.outputShape, p.outputType, b.target()));
    const uint32_t exchange = b.addExchange(e.name + "/tidy");
    for (size_t part = 0; part < parts.size(); ++part) {
      // Not a structured binding: clang 14 cannot capture one in the lambda below.
      const size_t blockIndex = parts[part].first;
      const std::pair<uint64_t, uint64_t>& range = parts[part].second;
      forEachOutputSegment(blocks[blockIndex], p.m, p.n, range.first, range.second,
                           [&](uint64_t element, uint64_t length, uint64_t offset) {
                             b.addCopy(exchange, {tileOutVar, tileOutBase[part] + offset - range.first, length}, outVar,
                                       element);
                           });
    }
    b.exchange(exchange);
  };
  if (direct && e.tidyOutput && !swapped) {
    std::vector<std::pair<size_t, std::pair<uint64_t, uint64_t>>> parts;
    for (size_t i = 0; i < blocks.size(); ++i) parts.push_back({i, {0, blocks[i].outElements()}});
    tidy(parts);
  }
  if (direct && !swapped) return outVar;
  // Output element runs of block elements [first, end), in the block's tile order.
  auto forEachBlockRun = [&](const TileBlock& block, uint64_t first, uint64_t end, const auto& f) {
    if (swapped) {
      forEachTransposedElement(block, p.m, p.n, first, end, f);
    } else {
      forEachOutputSegment(block, p.m, p.n, first, end, f);
    }
  };

  // 3. Each output block is cut into kParts pieces; piece l is reduced on the block's tile l,
  // which receives the other tiles' partials of it (and its bias elements).
  struct Piece {
    size_t reducer = 0;  // index into blocks
    uint64_t first = 0, end = 0;
    uint64_t size() const { return end - first; }
  };
  std::vector<Piece> pieces;
  std::vector<uint64_t> receiveSizes(blocks.size(), 0), biasSizes(blocks.size(), 0);
  // A constant bias that is the same along each output row (a convolution's per-channel bias)
  // is laid out one element per block row a piece touches (ReducePartials' row-bias form),
  // not repeated over the row's elements.
  const bool rowBias = e.epilogue.bias && e.epilogue.bias->constant != nullptr && !swapped &&
                       e.epilogue.bias->rowOffsets.empty() && e.epilogue.bias->colStride == 0;
  // Block rows [first / nb, (end - 1) / nb] that block elements [first, end) touch.
  auto rowsTouched = [](uint64_t first, uint64_t end, uint64_t nb) { return (end - 1) / nb - first / nb + 1; };
  for (size_t i = 0; i < blocks.size(); ++i) {
    const TileBlock& block = blocks[i];
    uint64_t first = 0, end = 0;
    if (swapped) {
      // Whole rows of the [n][m] block (all of it when there is no reduction).
      const uint64_t rows = direct ? block.n.size() : plan.swappedPieceRows(block.n.size());
      first = std::min(block.n.size(), block.kPart * rows) * block.m.size();
      end = std::min(block.n.size(), block.kPart * rows + rows) * block.m.size();
    } else {
      const uint64_t piece = plan.reducePiece(block.outElements());
      first = std::min(block.outElements(), block.kPart * piece);
      end = std::min(block.outElements(), first + piece);
    }
    if (first == end) continue;
    pieces.push_back({i, first, end});
    receiveSizes[i] = (plan.kParts - 1) * (end - first);
    biasSizes[i] = !e.epilogue.bias ? 0 : rowBias ? rowsTouched(first, end, block.n.size()) : end - first;
  }
  // Swapped: piece of block rows [r0, r1) of [n][m] becomes, transposed, the output segments
  // (g, m, n.begin + r0 .. n.begin + r1) for every m of the block.
  auto forEachTransposedSegment = [&](const Piece& piece, const auto& f) {
    const TileBlock& block = blocks[piece.reducer];
    const uint64_t mb = block.m.size(), r0 = piece.first / mb, rows = piece.size() / mb;
    for (uint64_t c = 0; c < mb; ++c) {
      f((block.g.begin * p.m + block.m.begin + c) * p.n + block.n.begin + r0, rows, c * rows);
    }
  };
  std::vector<TileSpan> outSpans;
  for (const Piece& piece : pieces) {
    const auto span = [&](uint64_t element, uint64_t length, uint64_t) {
      outSpans.push_back({blocks[piece.reducer].tile, element, length});
    };
    if (swapped) {
      forEachTransposedSegment(piece, span);
    } else {
      forEachOutputSegment(blocks[piece.reducer], p.m, p.n, piece.first, piece.end, span);
    }
  }
  if (e.tidyOutput) {
    std::vector<uint64_t> sizes(blocks.size(), 0);
    for (const Piece& piece : pieces) sizes[piece.reducer] = piece.size();
    TileBuffer buffer = tileBuffer(blocks, sizes);
    for (const Piece& piece : pieces) tileOutBase.push_back(buffer.base[piece.reducer]);
    tileOutVar = b.addVariable(e.name + "/out_pieces", p.outputType, {static_cast<int64_t>(buffer.total)},
                               std::move(buffer.mapping));
  } else {
    outVar = b.addVariable(e.outputName, p.outputType, e.outputShape, sortedMapping(std::move(outSpans)));
  }
  if (direct) receiveSizes.assign(blocks.size(), 0);  // swapped, no reduction
  TileBuffer receive = tileBuffer(blocks, receiveSizes);
  const uint32_t receiveVar =
      receive.total == 0 ? 0
                         : b.addVariable(e.name + "/received", p.partialsType, {static_cast<int64_t>(receive.total)},
                                         receive.mapping);
  const uint32_t exchangeReduce = b.addExchange(e.name + "/reduce");
  for (const Piece& piece : pieces) {
    if (direct) break;
    const TileBlock& reducer = blocks[piece.reducer];
    const size_t groupFirst = piece.reducer - reducer.kPart;  // the block's tile for k part 0
    uint64_t slot = 0;
    for (uint64_t l = 0; l < plan.kParts; ++l) {
      if (l == reducer.kPart) continue;
      b.addCopy(exchangeReduce, {partialsVar, partialsBase[groupFirst + l] + piece.first, piece.size()}, receiveVar,
                receive.base[piece.reducer] + slot * piece.size());
      ++slot;
    }
  }

  // The bias in the layout of the pieces.
  uint32_t biasVar = 0;
  std::vector<uint64_t> biasBase;
  if (e.epilogue.bias) {
    const MatMulOperandView& view = *e.epilogue.bias;
    TileBuffer buffer = tileBuffer(blocks, biasSizes);
    biasBase = buffer.base;
    const Shape shape{static_cast<int64_t>(buffer.total)};
    // Element of the bias source for output element (g, r, c).
    auto sourceOf = [&](uint64_t element) {
      const uint64_t c = element % p.n, r = (element / p.n) % p.m, g = element / (p.n * p.m);
      return view.groupOffset.at(g) + r * view.rowStride + c * view.colStride;
    };
    if (view.constant != nullptr) {
      const size_t bytes = dtypeSize(view.dtype);
      ConstTensor value{view.dtype, shape, std::vector<uint8_t>(buffer.total * bytes)};
      for (const Piece& piece : pieces) {
        uint8_t* out = value.bytes.data() + biasBase[piece.reducer] * bytes;
        // Each run is one block row's segment: one element for it in the row-bias form.
        forEachBlockRun(blocks[piece.reducer], piece.first, piece.end,
                             [&](uint64_t element, uint64_t length, uint64_t) {
                               for (uint64_t j = 0; j < (rowBias ? 1 : length); ++j, out += bytes) {
                                 std::memcpy(out, view.constant->bytes.data() + sourceOf(element + j) * bytes, bytes);
                               }
                             });
      }
      biasVar = b.addConstant(e.name + "/bias", value, std::move(buffer.mapping));
    } else {
      biasVar = b.addVariable(e.name + "/bias", view.dtype, shape, std::move(buffer.mapping));
      for (const Piece& piece : pieces) {
        uint64_t dst = biasBase[piece.reducer];
        forEachBlockRun(blocks[piece.reducer], piece.first, piece.end,
                             [&](uint64_t element, uint64_t length, uint64_t) {
                               if (view.colStride == 1) {
                                 b.addCopy(exchangeReduce, {view.var, sourceOf(element), length}, biasVar, dst);
                               } else {
                                 for (uint64_t j = 0; j < length; ++j) {
                                   b.addCopy(exchangeReduce, {view.var, sourceOf(element + j), 1}, biasVar, dst + j);
                                 }
                               }
                               dst += length;
                             });
      }
    }
  }

  // 4. Sums, scaling, bias, conversion: worker vertices over chunks of each piece.
  const std::string reduceCodelet = reducePartialsCodeletName(p.partialsType, p.outputType);
  if (!CodeletRegistry::instance().find(reduceCodelet)) throw CompileError("internal: no codelet " + reduceCodelet);
  const std::vector<int64_t> reduceScalars{scalarFromDouble(e.epilogue.alpha), scalarFromDouble(e.epilogue.beta)};
  // Swapped: the sums go to a piece buffer in the block's [n][m] order, transposed after.
  uint32_t reducedVar = 0;
  std::vector<uint64_t> reducedBase(pieces.size(), 0);
  if (swapped && !direct) {
    std::vector<uint64_t> sizes(blocks.size(), 0);
    for (const Piece& piece : pieces) sizes[piece.reducer] = piece.size();
    TileBuffer buffer = tileBuffer(blocks, sizes);
    for (size_t i = 0; i < pieces.size(); ++i) reducedBase[i] = buffer.base[pieces[i].reducer];
    reducedVar = b.addVariable(e.name + "/reduced", p.outputType, {static_cast<int64_t>(buffer.total)},
                               std::move(buffer.mapping));
  }
  const uint32_t reduce = b.addComputeSet(e.name + "/reduce");
  for (size_t pieceIndex = 0; pieceIndex < pieces.size(); ++pieceIndex) {
    if (direct) break;
    const Piece& piece = pieces[pieceIndex];
    const TileBlock& reducer = blocks[piece.reducer];
    uint64_t offset = 0;
    for (uint64_t chunk : reduceChunks(piece.size(), p.partialsType, b.target())) {
      std::vector<Slice> out;
      if (swapped) {
        out.push_back({reducedVar, reducedBase[pieceIndex] + offset, chunk});
      } else if (e.tidyOutput) {
        out.push_back({tileOutVar, tileOutBase[pieceIndex] + offset, chunk});
      } else {
        forEachOutputSegment(reducer, p.m, p.n, piece.first + offset, piece.first + offset + chunk,
                             [&](uint64_t element, uint64_t length, uint64_t) { out.push_back({outVar, element, length}); });
      }
      std::vector<Slice> partials{{partialsVar, partialsBase[piece.reducer] + piece.first + offset, chunk}};
      std::vector<int64_t> scalars = reduceScalars;
      if (e.tidyOutput && plan.kParts > 2) {
        // The strided form: the received partials as one region, a piece apart.
        partials.push_back(
            {receiveVar, receive.base[piece.reducer] + offset, (plan.kParts - 2) * piece.size() + chunk});
        scalars.push_back(static_cast<int64_t>(piece.size()));
      } else {
        for (uint64_t slot = 0; slot + 1 < plan.kParts; ++slot) {
          partials.push_back({receiveVar, receive.base[piece.reducer] + slot * piece.size() + offset, chunk});
        }
      }
      std::vector<Slice> bias;
      if (rowBias) {
        const uint64_t nb = reducer.n.size(), first = piece.first + offset;
        bias.push_back({biasVar, biasBase[piece.reducer] + first / nb - piece.first / nb, rowsTouched(first, first + chunk, nb)});
        scalars.resize(3, 0);  // the partials' stride, 0 when they are one region each
        scalars.push_back(static_cast<int64_t>(nb));
        scalars.push_back(static_cast<int64_t>(first % nb));
      } else if (e.epilogue.bias) {
        bias.push_back({biasVar, biasBase[piece.reducer] + offset, chunk});
      }
      b.addVertex(reduce, reduceCodelet, reducer.tile, {std::move(out), std::move(partials), std::move(bias)},
                  std::move(scalars));
      offset += chunk;
    }
  }
  if (!direct) {
    b.exchange(exchangeReduce);
    b.execute(reduce);
  }
  if (swapped) {
    // 5. Each piece ([rows][m] of the block) transposed into the output's [m][rows]
    // segments: Transpose2d vertices over row chunks (transposeChunks, as the planner).
    const std::string transposeCodelet = transpose2dCodeletName(p.outputType);
    if (!CodeletRegistry::instance().find(transposeCodelet)) {
      throw CompileError("internal: no codelet " + transposeCodelet);
    }
    const uint32_t transpose = b.addComputeSet(e.name + "/transpose");
    for (size_t pieceIndex = 0; pieceIndex < pieces.size(); ++pieceIndex) {
      const Piece& piece = pieces[pieceIndex];
      const TileBlock& reducer = blocks[piece.reducer];
      const uint64_t mb = reducer.m.size(), rows = piece.size() / mb;
      const Slice source = direct ? Slice{partialsVar, partialsBase[piece.reducer] + piece.first, piece.size()}
                                  : Slice{reducedVar, reducedBase[pieceIndex], piece.size()};
      uint64_t row = 0;  // first row of the current matrix within the piece
      for (const TransposeChunk& chunk : transposeChunks(rows, mb, p.outputType, b.target())) {
        std::vector<Slice> dst;
        for (uint64_t matrix = 0; matrix < chunk.matrices; ++matrix, row += chunk.rows) {
          for (uint64_t c = 0; c < mb; ++c) {
            if (e.tidyOutput) {
              dst.push_back({tileOutVar, tileOutBase[pieceIndex] + c * rows + row, chunk.rows});
            } else {
              const uint64_t r0 = piece.first / mb;
              dst.push_back({outVar, (reducer.g.begin * p.m + reducer.m.begin + c) * p.n + reducer.n.begin + r0 + row,
                             chunk.rows});
            }
          }
        }
        const uint64_t elements = chunk.rows * chunk.matrices * mb;
        const uint64_t srcFirst = source.first + (row - chunk.rows * chunk.matrices) * mb;
        b.addVertex(transpose, transposeCodelet, reducer.tile, {{{source.var, srcFirst, elements}}, std::move(dst)},
                    {static_cast<int64_t>(chunk.rows), static_cast<int64_t>(mb)});
      }
    }
    b.execute(transpose);
    if (e.tidyOutput) {
      outVar = b.addVariable(e.outputName, p.outputType, e.outputShape,
                             rowMapping(e.outputName, e.outputShape, p.outputType, b.target()));
      const uint32_t exchange = b.addExchange(e.name + "/tidy");
      for (size_t pieceIndex = 0; pieceIndex < pieces.size(); ++pieceIndex) {
        forEachTransposedSegment(pieces[pieceIndex], [&](uint64_t element, uint64_t length, uint64_t offset) {
          b.addCopy(exchange, {tileOutVar, tileOutBase[pieceIndex] + offset, length}, outVar, element);
        });
      }
      b.exchange(exchange);
    }
    return outVar;
  }
  if (e.tidyOutput) {
    std::vector<std::pair<size_t, std::pair<uint64_t, uint64_t>>> parts;
    for (const Piece& piece : pieces) parts.push_back({piece.reducer, {piece.first, piece.end}});
    tidy(parts);
  }
  return outVar;
}

}  // namespace ipusim
