// What the engine works out once at load so that running a step does no lookups, no
// allocation and no string work: each compute set's vertices grouped by tile with their
// codelets resolved and their cycles summed, each exchange's traffic and cycles.
// Engine internals (DESIGN.md section 4); docs/cost-model.md has the formulas.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <vector>

#include "sim/codelet.h"
#include "sim/executable.h"
#include "sim/tile_memory.h"

namespace ipusim {

// One host call of a codelet: one vertex, or consecutive vertices of a regionwise codelet
// with equal scalars, their regions concatenated field by field (Codelet::regionwise).
struct BoundVertex {
  const Codelet* codelet = nullptr;
  std::vector<const Vertex*> vertices;
  VertexData data;  // spans into the tile's memory, pointed there by TileWork::run
};

// The vertices one tile runs in a compute set, in their compute-set order.
struct TileWork {
  uint32_t tile = 0;
  uint64_t cycles = 0;
  std::vector<BoundVertex> vertices;
  const uint8_t* boundTo = nullptr;  // the memory the spans point into

  // Runs every vertex's kernel on the tile's memory (touching it first).
  void run(TileMemories& memory);
};

// Below this many tiles, and this many bytes, handing a step's tiles to other host threads
// costs more than it saves.
inline constexpr size_t kParallelTiles = 32;
inline constexpr uint64_t kParallelBytes = 256 * 1024;
inline bool worthSharing(size_t tiles, uint64_t bytes) {
  return tiles >= kParallelTiles || (tiles >= 2 && bytes >= kParallelBytes);
}

struct ComputePlan {
  std::vector<TileWork> tiles;  // ascending tile order
  uint64_t cycles = 0;          // the slowest tile
  bool parallel = false;        // big enough to be worth spreading over host threads
  std::vector<std::exception_ptr> errors;  // per TileWork, filled by a parallel run
};

// Tile time of a compute superstep: supervisor launch per vertex, then barrel-scheduled
// workers (each vertex, in order, to the least-loaded worker), then AMP vertices serially.
uint64_t tileComputeCycles(const Target& target, std::span<const uint64_t> workerVertexCycles,
                           uint64_t ampCycles, uint64_t vertexCount);

// `codelets[i]` resolves exe.codelets[i].
ComputePlan planComputeSet(const Executable& exe, const ComputeSet& computeSet,
                           std::span<const Codelet* const> codelets);

struct TileTraffic {
  uint32_t tile = 0;
  uint64_t sent = 0;
  uint64_t received = 0;
};

struct ExchangePlan {
  uint64_t cycles = 0;
  uint64_t bytes = 0;                // all copies together
  std::vector<TileTraffic> traffic;  // tiles that send or receive, ascending
  // Some copy writes bytes that some copy reads: sources go through a staging buffer so
  // that every read happens before any write.
  bool needsStaging = false;
};

ExchangePlan planExchange(const Target& target, const Exchange& exchange);

}  // namespace ipusim
