#include "compiler/planning/matmul_planner.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "compiler/compiler.h"
#include "compiler/lowering/tile_mapping.h"
#include "sim/codelets/matmul_cost.h"
#include "sim/codelets/transpose_cost.h"
#include "sim/engine_plan.h"

namespace ipusim {

namespace {

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t roundUp(uint64_t a, uint64_t grain) { return ceilDiv(a, grain) * grain; }

// Rows of a Transpose2d matrix the fast path takes whole: 4 for 2-byte elements, 2 for
// 4-byte ones (whole 64-bit vectors).
uint64_t transposeRowGrain(DType dtype) { return dtypeSize(dtype) == 2 ? 4 : 2; }

// The busiest tile of a linear mapping of `elements`: what one sender holds.
uint64_t linearElementsPerTile(uint64_t elements, DType dtype, const Target& target) {
  const auto spans = linearMapping(elements, dtype, target);
  uint64_t most = 0;
  for (const TileSpan& span : spans) most = std::max(most, span.count);
  return most;
}

// Cycles of one exchange superstep whose busiest tile sends `sent` and receives `received`
// bytes, and its sync (the engine's formula, docs/cost-model.md section 2).
uint64_t exchangeCycles(const Target& target, uint64_t sent, uint64_t received) {
  const uint64_t busiest = std::max(sent, received);
  return target.exchangeFixedCycles + ceilDiv(busiest, target.exchangeBytesPerCycle) + target.syncCycles;
}

// Distinct block sizes for a dimension of `size`: ceil(size / p) for every part count p,
// rounded up to `grain` (and at most `size`), largest first.
std::vector<uint64_t> candidateBlocks(uint64_t size, uint64_t grain) {
  std::vector<uint64_t> blocks;
  for (uint64_t parts = 1; parts <= size;) {
    const uint64_t block = ceilDiv(size, parts);
    blocks.push_back(std::min(size, roundUp(block, grain)));
    if (block == 1) break;
    parts = ceilDiv(size, block - 1);  // the next part count with a smaller block
  }
  std::sort(blocks.begin(), blocks.end(), std::greater<>());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  return blocks;
}

}  // namespace

uint64_t MatMulPlan::swappedPieceRows(uint64_t blockRows) const {
  const uint64_t rows = roundUp(ceilDiv(blockRows, kParts), transposeRowGrain(problem.outputType));
  return std::min(blockRows, rows);
}

bool MatMulPlan::directOutput() const {
  return kParts == 1 && problem.partialsType == problem.outputType && !problem.hasBias && !problem.scaled;
}

std::string MatMulPlan::describe() const {
  std::ostringstream out;
  out << "groups " << groupParts << "x" << groupBlock << ", m " << mParts << "x" << mBlock << ", n " << nParts
      << "x" << nBlock << ", k " << kParts << "x" << kBlock << " on " << tiles() << " tiles";
  if (swapOperands) out << ", operands swapped";
  return out.str();
}

std::vector<uint64_t> reduceChunks(uint64_t pieceElements, DType partialsType, const Target& target) {
  std::vector<uint64_t> chunks;
  for (const TileSpan& chunk : splitForWorkers({0, 0, pieceElements}, partialsType, target)) {
    chunks.push_back(chunk.count);
  }
  return chunks;
}

std::vector<TransposeChunk> transposeChunks(uint64_t rows, uint64_t cols, DType dtype, const Target& target) {
  std::vector<TransposeChunk> chunks;
  if (rows == 0 || cols == 0) return chunks;
  const uint64_t grain = transposeRowGrain(dtype);
  const uint64_t workers = std::clamp<uint64_t>(ceilDiv(rows, grain), 1, std::max<uint32_t>(1, target.workerContexts));
  const uint64_t perWorker = roundUp(ceilDiv(rows, workers), grain);
  const uint64_t limit = transpose2dFastRowLimit(dtype, cols);  // 0: none
  for (uint64_t first = 0; first < rows; first += perWorker) {
    const uint64_t chunk = std::min(perWorker, rows - first);
    if (limit == 0 || chunk <= limit) {
      chunks.push_back({chunk, 1});
      continue;
    }
    chunks.push_back({limit, chunk / limit});
    if (chunk % limit != 0) chunks.push_back({chunk % limit, 1});
  }
  return chunks;
}

std::vector<uint64_t> vectorRowChunks(uint64_t groups, uint64_t rows, const Target& target) {
  const uint64_t workers = std::max<uint64_t>(1, target.workerContexts);
  const uint64_t chunksPerGroup = std::clamp<uint64_t>(ceilDiv(workers, std::max<uint64_t>(1, groups)), 1,
                                                        std::max<uint64_t>(1, rows));
  const uint64_t rowsPerChunk = ceilDiv(rows, chunksPerGroup);
  std::vector<uint64_t> chunks;
  for (uint64_t first = 0; first < rows; first += rowsPerChunk) chunks.push_back(std::min(rowsPerChunk, rows - first));
  return chunks;
}

MatMulPlan evaluateMatMulSplit(const MatMulProblem& problem, const Target& target, uint64_t groupBlock,
                               uint64_t mBlock, uint64_t nBlock, uint64_t kBlock,
                               uint64_t residentConstantBytesPerTile, bool swapOperands) {
  if (swapOperands && (groupBlock != 1 || problem.unit != MatMulUnit::Amp)) {
    throw CompileError("internal: a swapped matmul plan needs AMP blocks of one group");
  }
  MatMulPlan plan;
  plan.problem = problem;
  plan.swapOperands = swapOperands;
  plan.groupBlock = groupBlock;
  plan.mBlock = mBlock;
  plan.nBlock = nBlock;
  plan.kBlock = kBlock;
  plan.groupParts = ceilDiv(problem.groups, groupBlock);
  plan.mParts = ceilDiv(problem.m, mBlock);
  plan.nParts = ceilDiv(problem.n, nBlock);
  plan.kParts = ceilDiv(problem.k, kBlock);
  const MatMulProblem& p = problem;
  const uint64_t lhsBytes = dtypeSize(p.lhsType), rhsBytes = dtypeSize(p.rhsType);
  const uint64_t partialBytes = dtypeSize(p.partialsType), outBytes = dtypeSize(p.outputType);

  // Memory of the busiest tile (a full block).
  const uint64_t lhsBlock = groupBlock * mBlock * kBlock * lhsBytes;
  const uint64_t rhsBlock = groupBlock * kBlock * nBlock * rhsBytes;
  plan.lhsResident = p.lhsConstant && lhsBlock <= residentConstantBytesPerTile;
  plan.rhsResident = p.rhsConstant && rhsBlock <= residentConstantBytesPerTile;
  const uint64_t outBlockElements = groupBlock * mBlock * nBlock;
  // Swapped: pieces of whole rows of the [n][m] block; each is transposed after its sums.
  const uint64_t pieceRows = swapOperands ? plan.swappedPieceRows(nBlock) : 0;
  const uint64_t piece = swapOperands ? pieceRows * mBlock : plan.reducePiece(outBlockElements);
  plan.bytesPerTile = lhsBlock + rhsBlock;
  if (plan.directOutput()) {
    // Swapped: the transposed block, then the output block.
    plan.bytesPerTile += outBlockElements * outBytes * (swapOperands ? 2 : 1);
  } else {
    plan.bytesPerTile += outBlockElements * partialBytes + (plan.kParts - 1) * piece * partialBytes +
                         piece * outBytes + (p.hasBias ? piece * outBytes : 0) + (swapOperands ? piece * outBytes : 0);
  }

  // 1. Operands to the tiles that multiply them. Every lhs element goes to the nParts tiles
  // of its row block (and to each group block that shares it); likewise rhs over mParts.
  const uint64_t received = (plan.lhsResident ? 0 : lhsBlock) + (plan.rhsResident ? 0 : rhsBlock);
  if (received > 0) {
    const auto groupFan = [&](uint64_t operandGroups) {
      return std::min(plan.groupParts, ceilDiv(p.groups, std::max<uint64_t>(1, operandGroups)));
    };
    const uint64_t lhsSource = p.lhsSourceElementsPerTile != 0
                                   ? p.lhsSourceElementsPerTile
                                   : linearElementsPerTile(p.lhsGroups * p.m * p.k, p.lhsType, target);
    const uint64_t rhsSource = p.rhsSourceElementsPerTile != 0
                                   ? p.rhsSourceElementsPerTile
                                   : linearElementsPerTile(p.rhsGroups * p.k * p.n, p.rhsType, target);
    const uint64_t sent = (plan.lhsResident ? 0 : lhsSource * lhsBytes * plan.nParts * groupFan(p.lhsGroups)) +
                          (plan.rhsResident ? 0 : rhsSource * rhsBytes * plan.mParts * groupFan(p.rhsGroups));
    plan.cost.exchangeIn = exchangeCycles(target, sent, received);
  }

  // 2. Block products.
  if (p.unit == MatMulUnit::Amp) {
    // Swapped: the AMP streams the n rows of the rhs block through passes of the lhs block.
    const uint64_t amp = swapOperands
                             ? ampMatMulCycles(target, p.rhsType, p.partialsType, 1, nBlock, kBlock, mBlock)
                             : ampMatMulCycles(target, p.lhsType, p.partialsType, groupBlock, mBlock, kBlock, nBlock);
    plan.cost.compute = tileComputeCycles(target, {}, amp, 1) + target.syncCycles;
  } else {
    std::vector<uint64_t> workerCycles;
    for (uint64_t g = 0; g < groupBlock; ++g) {
      for (uint64_t rows : vectorRowChunks(groupBlock, mBlock, target)) {
        workerCycles.push_back(vectorMatMulWorkerCycles(p.lhsType, p.partialsType, rows, kBlock, nBlock));
      }
    }
    plan.cost.compute = tileComputeCycles(target, workerCycles, 0, workerCycles.size()) + target.syncCycles;
  }

  // 3 and 4. Partials to reducers, then the sums.
  if (!plan.directOutput()) {
    const bool biasMoves = p.hasBias && !p.biasConstant;
    const uint64_t partialsMoved = (plan.kParts - 1) * piece * partialBytes;
    if (partialsMoved > 0 || biasMoves) {
      uint64_t biasSent = 0;
      if (biasMoves) {
        const uint64_t source = p.biasSourceElementsPerTile != 0
                                    ? p.biasSourceElementsPerTile
                                    : linearElementsPerTile(p.biasElements, p.outputType, target);
        const uint64_t fan = std::min<uint64_t>(
            plan.tiles(), ceilDiv(p.groups * p.m * p.n, std::max<uint64_t>(1, p.biasElements)));
        biasSent = source * outBytes * fan;
      }
      plan.cost.exchangeReduce =
          exchangeCycles(target, partialsMoved + biasSent, partialsMoved + (biasMoves ? piece * outBytes : 0));
    }
    std::vector<uint64_t> workerCycles;
    for (uint64_t chunk : reduceChunks(piece, p.partialsType, target)) {
      workerCycles.push_back(reducePartialsWorkerCycles(target, p.partialsType, p.outputType, chunk, plan.kParts,
                                                        p.hasBias, p.scaled));
    }
    plan.cost.reduce = tileComputeCycles(target, workerCycles, 0, workerCycles.size()) + target.syncCycles;
  }

  // 5. Swapped: each reducer's piece (the whole block when there is no reduction) back to
  // [m][n] by Transpose2d vertices. Unlike the other phases, a smaller piece can be slower
  // (rows or columns off the fast path), so every piece shape of the full and edge blocks
  // is costed and the slowest taken.
  if (swapOperands) {
    const auto tileCycles = [&](uint64_t rows, uint64_t cols) {
      std::vector<uint64_t> workerCycles;
      for (const TransposeChunk& chunk : transposeChunks(rows, cols, p.outputType, target)) {
        workerCycles.push_back(transpose2dWorkerCycles(p.outputType, chunk.rows, cols, chunk.matrices));
      }
      return tileComputeCycles(target, workerCycles, 0, workerCycles.size());
    };
    std::vector<uint64_t> rowCases;
    for (const uint64_t blockRows : {nBlock, p.n - (plan.nParts - 1) * nBlock}) {
      const uint64_t rows = plan.directOutput() ? blockRows : plan.swappedPieceRows(blockRows);
      rowCases.push_back(rows);
      if (blockRows % rows != 0) rowCases.push_back(blockRows % rows);  // the block's last piece
    }
    uint64_t slowest = 0;
    for (const uint64_t cols : {mBlock, p.m - (plan.mParts - 1) * mBlock}) {
      for (const uint64_t rows : rowCases) slowest = std::max(slowest, tileCycles(rows, cols));
    }
    plan.cost.transpose = slowest + target.syncCycles;
  }
  return plan;
}

MatMulPlan planMatMul(const MatMulProblem& problem, const Target& target, const MatMulOptions& options) {
  if (problem.groups == 0 || problem.m == 0 || problem.k == 0 || problem.n == 0) {
    throw CompileError("internal: planMatMul needs a non-empty product");
  }
  MatMulProblem p = problem;
  // Work out the senders' load once rather than per candidate.
  // (Constants too: one that is not resident is exchanged from a linear layout.)
  if (p.lhsSourceElementsPerTile == 0) {
    p.lhsSourceElementsPerTile = linearElementsPerTile(p.lhsGroups * p.m * p.k, p.lhsType, target);
  }
  if (p.rhsSourceElementsPerTile == 0) {
    p.rhsSourceElementsPerTile = linearElementsPerTile(p.rhsGroups * p.k * p.n, p.rhsType, target);
  }
  if (p.hasBias && !p.biasConstant && p.biasSourceElementsPerTile == 0) {
    p.biasSourceElementsPerTile = linearElementsPerTile(p.biasElements, p.outputType, target);
  }

  // Blocks of k and n in whole AMP passes, so that no pass is partly empty.
  uint64_t kGrain = 1, nGrain = 1;
  if (p.unit == MatMulUnit::Amp) {
    const AmpGeometry geometry = ampGeometry(p.lhsType, p.partialsType, target);
    kGrain = geometry.inputsPerPass;
    nGrain = geometry.outputsPerPass;
  }
  const auto kBlocks = candidateBlocks(p.k, kGrain);
  const uint64_t budget = static_cast<uint64_t>(options.availableMemoryProportion * target.bytesPerTile);

  MatMulPlan best;
  bool found = false;
  uint64_t smallestBytes = std::numeric_limits<uint64_t>::max();
  // Both orientations: the usual one, and (where the lowering allows it) the swapped one, in
  // which m plays the AMP's output role (whole passes) and n the streamed rows.
  const bool trySwapped = p.swapAllowed && p.unit == MatMulUnit::Amp && p.groups <= target.tiles;
  for (const bool swapped : {false, true}) {
    if (swapped && !trySwapped) continue;
    const auto groupBlocks = swapped ? std::vector<uint64_t>{1} : candidateBlocks(p.groups, 1);
    const auto mBlocks = candidateBlocks(p.m, swapped ? nGrain : 1);
    // Swapped, n blocks are the rows the AMP streams, in whole transpose row grains.
    const auto nBlocks = candidateBlocks(p.n, swapped ? transposeRowGrain(p.outputType) : nGrain);
    for (uint64_t g : groupBlocks) {
      const uint64_t gParts = ceilDiv(p.groups, g);
      if (gParts > target.tiles) break;
      for (uint64_t m : mBlocks) {
        const uint64_t mParts = gParts * ceilDiv(p.m, m);
        if (mParts > target.tiles) break;
        for (uint64_t n : nBlocks) {
          const uint64_t nParts = mParts * ceilDiv(p.n, n);
          if (nParts > target.tiles) break;
          for (uint64_t k : kBlocks) {
            if (nParts * ceilDiv(p.k, k) > target.tiles) break;
            MatMulPlan plan =
                evaluateMatMulSplit(p, target, g, m, n, k, options.residentConstantBytesPerTile, swapped);
            smallestBytes = std::min(smallestBytes, plan.bytesPerTile);
            if (plan.bytesPerTile > budget) continue;
            if (!found || plan.cost.total() < best.cost.total() ||
                (plan.cost.total() == best.cost.total() && plan.bytesPerTile < best.bytesPerTile)) {
              best = std::move(plan);
              found = true;
            }
          }
        }
      }
    }
  }
  if (!found) {
    throw CompileError("a matrix product of " + std::to_string(p.groups) + " x [" + std::to_string(p.m) + " x " +
                       std::to_string(p.k) + "] x [" + std::to_string(p.k) + " x " + std::to_string(p.n) +
                       "] does not fit: its smallest split needs " + std::to_string(smallestBytes) +
                       " bytes on every tile it uses, " + std::to_string(smallestBytes - budget) +
                       " bytes short of the budget of " + std::to_string(budget) + " (a share of " +
                       std::to_string(target.bytesPerTile) + "-byte tiles)");
  }
  return best;
}

}  // namespace ipusim
