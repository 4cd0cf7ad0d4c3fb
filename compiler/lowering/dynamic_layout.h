// Data-dependent layout ops (Gather with run-time indices, Slice with run-time starts, ...):
// the source and the run-time parameters are copied by one exchange next to each chunk of
// the output, and a codelet (sim/codelets/layout_codelets.cpp, gather_codelets.cpp) picks
// the elements on the tile, so every vertex reads only its own tile's memory.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "compiler/lowering/lowering_context.h"

namespace ipusim {

// What a vertex on output span k sees of one operand.
struct TileOperand {
  std::vector<Slice> perSpan;  // per output span; a slice of count 0 is an absent field
  bool aligned = false;        // laid out like the output: each chunk sees its own elements
};

// Elements [first, first + count) of a source that an output span needs.
struct ElementRange {
  uint64_t first = 0;
  uint64_t count = 0;
};
using RangeOfSpan = std::function<ElementRange(const TileSpan& span)>;

// Copies, within `exchange`, the range each output span needs of `src` onto that span's
// tile. Throws CompileError (naming `what` and the op) when a range exceeds a quarter of a
// tile's memory: the op then needs constant parameters or a smaller source.
TileOperand placeNearOutput(LoweringContext& ctx, uint32_t exchange, const std::string& what, const TensorValue& src,
                            const std::vector<TileSpan>& outSpans, const RangeOfSpan& range);
// The whole of `src` next to every output span.
TileOperand placeWholeNearOutput(LoweringContext& ctx, uint32_t exchange, const std::string& what,
                                 const TensorValue& src, const std::vector<TileSpan>& outSpans);
// An optional input: placed whole when present, absent otherwise.
TileOperand placeOptionalInput(LoweringContext& ctx, uint32_t exchange, size_t input, const std::string& what,
                               const std::vector<TileSpan>& outSpans);
// `src` (same element count as the output) laid out like the output: itself when its
// mapping already matches, else a copy made within `exchange`.
TileOperand alignWithOutput(LoweringContext& ctx, uint32_t exchange, const std::string& what, const TensorValue& src,
                            const std::vector<TileSpan>& outSpans);

// The scalars of the vertex of one worker chunk of output span `span`.
using ChunkScalars = std::function<std::vector<int64_t>(const TileSpan& chunk, const TileSpan& span)>;

// One vertex of `codelet` per worker chunk of every output span; fields are the operands'
// slices in order, then the chunk of `outVar`; scalars come from scalarsOf.
void addChunkVertices(GraphBuilder& builder, uint32_t computeSet, const std::string& codelet, uint32_t outVar,
                      const std::vector<TileSpan>& outSpans, const std::vector<TileOperand>& operands,
                      const ChunkScalars& scalarsOf);

// The DType of input i as a codelet scalar (int64 when absent).
int64_t dtypeScalar(const LoweringContext& ctx, size_t input);

// The common shape of a data-dependent lowering: a linearly mapped output, one exchange
// that places the operands, one compute set of `codelet` vertices. `place` adds the
// operands (it may use the exchange); `scalarsOf` gives each chunk's scalars.
struct DynamicLowering {
  std::function<std::vector<TileOperand>(uint32_t exchange, const std::vector<TileSpan>& outSpans)> place;
  ChunkScalars scalarsOf;
  std::vector<TileSpan> outSpans;  // empty: linear over tiles
};
void lowerDynamic(LoweringContext& ctx, const std::string& codelet, DynamicLowering lowering, size_t output = 0);

}  // namespace ipusim
