// Emits a planned matrix product (compiler/planning/matmul_planner.h) into a GraphBuilder:
// per-tile operand blocks (constants laid out at compile time, run-time operands gathered
// by one exchange), one AMP vertex (or worker vertices for integers) per tile, then the
// partials exchanged to reducer tiles and summed with Gemm's epilogue. Shared by MatMul,
// Gemm and MatMulInteger; a convolution can lower through it by describing its operands
// as views (docs/matmul-planner.md, "Reuse").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/const_tensor.h"
#include "compiler/import/onnx_import.h"
#include "compiler/lowering/graph_builder.h"
#include "compiler/planning/matmul_planner.h"

namespace ipusim {

// A logical [groups][rows][cols] view of a variable (or a compile-time constant): element
// (g, r, c) is element groupOffset[g] + r * rowStride + c * colStride. Strides may be 0
// (broadcast).
struct MatMulOperandView {
  DType dtype = DType::Float32;
  uint32_t var = 0;                       // the run-time source, when constant is null
  const ConstTensor* constant = nullptr;  // the compile-time source
  std::vector<uint64_t> groupOffset;      // one per group of the product
  uint64_t rowStride = 0;
  uint64_t colStride = 0;
  // A gathered view (a convolution's im2col): when non-empty, element (g, r, c) is
  // groupOffset[g] + rowOffsets[r] + colOffsets[c] instead, and the strides are unused.
  std::vector<uint64_t> rowOffsets;
  std::vector<uint64_t> colOffsets;
};

struct MatMulEpilogue {
  double alpha = 1.0;
  double beta = 1.0;
  std::optional<MatMulOperandView> bias;  // [groups][m][n] view, in the output type
};

struct MatMulEmission {
  std::string name;          // prefix of compute sets, exchanges and temporaries
  std::string outputName;    // the output variable
  Shape outputShape;         // groups * m * n elements, row-major [g][m][n]
  MatMulOperandView lhs;     // [groups][m][k]
  MatMulOperandView rhs;     // [groups][k][n]
  MatMulEpilogue epilogue;
  std::string productCodelet;                  // AmpMatMul<...>, MatMul<...>, MatMulInteger<...>
  std::vector<int64_t> productExtraScalars;    // MatMulInteger's zero points
  // Extra fields of every product vertex, each one element of a variable brought to every
  // product tile by the operand exchange (MatMulInteger's run-time zero points). An absent
  // entry (nullopt) is an empty field.
  std::vector<std::optional<Slice>> productBroadcastFields;
  // Write the blocks (or reduced pieces) contiguously on their tiles and lay the output out
  // in whole rows by one more exchange (rowMapping): later ops then see a few spans per tile
  // instead of the blocks' row segments (docs/conv-planner.md, "The tidy output").
  bool tidyOutput = false;
  // The plan's tile t runs on tile (t + firstTile) mod tiles (firstTileAvoidingTileZero).
  uint32_t firstTile = 0;
};

// The most elements any one tile holds of `var` (a sender's load, for the planner).
uint64_t mostElementsOnATile(const VariableDesc& var);

// Share of a tile's memory that the resident (compile-time laid out, replicated) constant
// blocks of all a model's products may fill together (assumption, docs/matmul-planner.md):
// the rest is left to activations, code and vertex state.
inline constexpr double kResidentConstantShare = 0.25;
// Planner options for a product whose compile-time operands hold `constantBytes`: its
// resident-constant budget per tile is its share (by bytes) of all the model's initializers
// times kResidentConstantShare of a tile, so that the products' replicated weights fit
// together; beyond it weights are stored once and exchanged (MatMulOptions).
MatMulOptions productOptions(const ImportedModel& model, const Target& target, uint64_t constantBytes);

// Emits the product; returns the output variable.
uint32_t emitMatMul(GraphBuilder& builder, const MatMulPlan& plan, const MatMulEmission& emission);

// A tile chosen by hashing `name`: a stable, spread-out first tile for a tensor.
uint32_t tileForName(const std::string& name, const Target& target);
// MatMulEmission::firstTile that leaves the tiles a plan does not use at the start of the
// chip, where the linear mappings of small tensors (all starting at tile 0) crowd.
uint32_t firstTileAvoidingTileZero(const MatMulPlan& plan, const Target& target);
// Whole rows of `shape` (its innermost dimension) per tile, from a tile chosen by `name` when
// there are fewer rows than tiles; a linear mapping when rows are long.
std::vector<TileSpan> rowMapping(const std::string& name, const Shape& shape, DType dtype, const Target& target);

}  // namespace ipusim
