// Memory planning (DESIGN.md section 5, step 5): per tile, code, vertex state, constants,
// then variables placed by liveness so dead temporaries' bytes are reused, and the
// variables of different scopes (subgraphs of a fused executable) share one area.
#pragma once
#include <cstdint>
#include <vector>

#include "compiler/lowering/graph_builder.h"

namespace ipusim {

struct MemoryPlan {
  std::vector<std::vector<uint32_t>> spanOffsets;  // [variable][mapping span] -> tile offset
  std::vector<TileMemoryUsage> tiles;              // tiles that hold something, ascending
};

// Exchange code on a tile: a fixed part per exchange superstep it takes part in, plus a
// descriptor per copy it sends or receives (assumptions, docs/cost-model.md).
inline constexpr uint32_t kExchangeCodeBytesPerStep = 16;
inline constexpr uint32_t kExchangeCodeBytesPerCopy = 8;
inline constexpr uint32_t kTileAlignment = 8;

// Throws CompileError naming the tile, its largest tensor and the bytes when a tile's
// memory is exceeded.
MemoryPlan planMemory(const BuiltGraph& graph);

// Resolves every slice to a tile-local region and builds the IR. Throws CompileError if a
// vertex touches memory of another tile.
Executable finalizeExecutable(const BuiltGraph& graph, const MemoryPlan& plan, Program main, FusionInfo fusion);

}  // namespace ipusim
