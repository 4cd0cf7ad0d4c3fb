// The matmul planner (poplibs-style, docs/matmul-planner.md): how to split a batched matrix
// product out[g] = lhs[g] x rhs[g] ([m x k] by [k x n], g < groups) over the tiles, and what
// it will cost. Pure functions of the problem and the Target, so they are unit-testable and
// reusable by any op that lowers to a matrix product (Gemm, and Conv as a product over
// im2col-style gathered operands).
//
// A plan cuts groups, m, n and k into blocks. Tiles form groups x m x n "tile groups", each
// cut further over k: every tile multiplies one block (one AMP vertex, or worker vertices for
// integer types) into partials; the kParts partials of a tile group are summed by exchanging
// them to reducer tiles, each of which reduces 1/kParts of the output block (and applies
// Gemm's alpha, beta and bias). Phases, each followed by a sync:
//   1. exchange-in: run-time operands copied to the tiles that need them (constants are laid
//      out per tile at compile time and need no exchange);
//   2. compute: the block products;
//   3. exchange-reduce: partials (and a run-time bias) to the reducer tiles;
//   4. reduce: partial sums, scaling, bias, conversion to the output type.
// Phases 3 and 4 are skipped when kParts is 1 and the partials are the output as they are.
//
// A plan may swap the operands (poplibs' swapOperands transform): the tiles compute
// out^T = rhs^T x lhs^T, the AMP streaming rows of rhs^T (n rows per pass) with a pass of
// lhs^T as its weights, and a 5th phase transposes each reduced piece back on its tile
// (Transpose2d). Its exchange-in ratio and its per-pass overheads then both favour long n
// blocks with short m blocks (docs/matmul-planner.md, "Swapped operands").
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/dtype.h"
#include "sim/target.h"

namespace ipusim {

enum class MatMulUnit : uint8_t { Amp, Vector };

struct MatMulProblem {
  uint64_t groups = 1;  // independent products (broadcast batch elements)
  uint64_t m = 1, k = 1, n = 1;
  DType lhsType = DType::Float32;
  DType rhsType = DType::Float32;
  DType partialsType = DType::Float32;
  DType outputType = DType::Float32;
  MatMulUnit unit = MatMulUnit::Amp;
  // Constants are laid out per tile at compile time: no exchange, only memory.
  bool lhsConstant = false;
  bool rhsConstant = false;
  // Distinct batch elements of each operand: 1 when it is broadcast over every group.
  uint64_t lhsGroups = 1;
  uint64_t rhsGroups = 1;
  // The most elements any one tile holds of each run-time operand (its senders' load);
  // 0 means "assume a linear mapping".
  uint64_t lhsSourceElementsPerTile = 0;
  uint64_t rhsSourceElementsPerTile = 0;
  // Gemm's epilogue: out = alpha * product + beta * bias.
  bool hasBias = false;
  bool biasConstant = false;
  uint64_t biasElements = 0;             // before broadcasting
  uint64_t biasSourceElementsPerTile = 0;
  bool scaled = false;                   // alpha != 1, or beta != 1 with a bias
  // The swapped orientation may be considered: the lowering says so when the rhs, which it
  // streams through the AMP, can be laid out in rows of k cheaply (a compile-time constant,
  // or a run-time view contiguous along k) and there is no run-time bias (AMP only).
  bool swapAllowed = false;
};

struct MatMulOptions {
  // Share of a tile's memory the plan's operand blocks, partials and output may take; the
  // rest is left to other tensors. poplibs' default availableMemoryProportion.
  double availableMemoryProportion = 0.6;
  // Bytes of compile-time-laid-out constant blocks a tile may hold for this product. A
  // constant operand's blocks are replicated over the tiles that share them; where they
  // would exceed this, the constant is instead stored once, spread over the tiles, and
  // exchanged into its blocks at run time like a run-time operand (what poplibs does with
  // weights), trading exchange cycles for memory. No limit by default.
  uint64_t residentConstantBytesPerTile = UINT64_MAX;
};

// Estimated cycles by phase, each including its sync.
struct MatMulCost {
  uint64_t exchangeIn = 0;
  uint64_t compute = 0;
  uint64_t exchangeReduce = 0;
  uint64_t reduce = 0;
  uint64_t transpose = 0;  // swapped plans: the output blocks transposed back
  uint64_t total() const { return exchangeIn + compute + exchangeReduce + reduce + transpose; }
};

struct MatMulPlan {
  MatMulProblem problem;
  // Block sizes (elements per tile along each dimension; edge blocks may be smaller) and
  // how many blocks each dimension has.
  uint64_t groupBlock = 1, mBlock = 1, nBlock = 1, kBlock = 1;
  uint64_t groupParts = 1, mParts = 1, nParts = 1, kParts = 1;
  // Constant operands laid out per tile at compile time (else exchanged into their blocks).
  bool lhsResident = false, rhsResident = false;
  // Swapped operands: every tile computes its block transposed ([n][m] partials, the AMP
  // streaming the rhs block's n rows); groupBlock is 1. Blocks and parts keep their meaning.
  bool swapOperands = false;
  uint64_t bytesPerTile = 0;         // the busiest tile's operand blocks, partials, output
  MatMulCost cost;

  uint32_t tiles() const { return static_cast<uint32_t>(groupParts * mParts * nParts * kParts); }
  // True when the block products are the output: no reduction phase.
  bool directOutput() const;
  // Tile of block (g, m, n, k); the k blocks of one output block are consecutive tiles.
  uint32_t tileOf(uint64_t gPart, uint64_t mPart, uint64_t nPart, uint64_t kPart) const {
    return static_cast<uint32_t>(((gPart * mParts + mPart) * nParts + nPart) * kParts + kPart);
  }
  // Elements of the output block each reducer reduces (the last may hold fewer).
  uint64_t reducePiece(uint64_t blockElements) const { return (blockElements + kParts - 1) / kParts; }
  // Swapped plans cut a [rows][m] transposed block into pieces of whole rows instead: the
  // rows each reducer reduces and transposes (a multiple of the transpose's row grain, 4 for
  // 2-byte outputs, 2 otherwise, unless the block has fewer; the last piece may be smaller).
  uint64_t swappedPieceRows(uint64_t blockRows) const;
  std::string describe() const;  // "groups 1x1, m 8x256, n 8x256, k 23x89 on 1472 tiles"
};

// Estimates one candidate split (block sizes per dimension) of `problem`.
// Constant operands stay resident when their blocks fit `residentConstantBytesPerTile`.
// `swapOperands` evaluates the swapped orientation (which needs groupBlock 1).
MatMulPlan evaluateMatMulSplit(const MatMulProblem& problem, const Target& target, uint64_t groupBlock,
                               uint64_t mBlock, uint64_t nBlock, uint64_t kBlock,
                               uint64_t residentConstantBytesPerTile = UINT64_MAX, bool swapOperands = false);

// The cheapest split whose busiest tile fits the memory budget. Throws CompileError naming
// the smallest footprint it found when none fits.
MatMulPlan planMatMul(const MatMulProblem& problem, const Target& target, const MatMulOptions& options = {});

// Worker vertices of the reduction on one tile: the piece cut into at most workerContexts
// chunks of whole vectors. Shared by the planner and the lowering.
std::vector<uint64_t> reduceChunks(uint64_t pieceElements, DType partialsType, const Target& target);
// Transpose2d vertices of one tile transposing a [rows][cols] matrix (swapped plans): rows
// cut into at most workerContexts chunks of whole row grains, each chunk one vertex of
// equal matrices on the estimator's fast path where it can be. In row order.
struct TransposeChunk {
  uint64_t rows = 0;      // rows of each matrix
  uint64_t matrices = 1;  // consecutive matrices of the vertex
};
std::vector<TransposeChunk> transposeChunks(uint64_t rows, uint64_t cols, DType dtype, const Target& target);
// Integer (vector) block products: rows of each group's block cut so that a tile has about
// workerContexts vertices. Returns the rows of each chunk of one group.
std::vector<uint64_t> vectorRowChunks(uint64_t groups, uint64_t rows, const Target& target);

}  // namespace ipusim
