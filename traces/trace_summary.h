// What `ipusim trace summary` reports about a trace: where the cycles went (top steps, the
// split by step kind), which tiles carry the compute and how evenly, and how much memory
// each tile has left.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "traces/trace_schema.h"

namespace ipusim {

struct KindTotal {
  StepKind kind = StepKind::Compute;
  uint64_t steps = 0;
  uint64_t cycles = 0;
  double share = 0;  // of all step cycles, 0..1
};

struct TopStep {
  uint32_t run = 0;
  uint32_t step = 0;
  StepKind kind = StepKind::Compute;
  std::string name;
  uint64_t cycles = 0;
  double share = 0;  // of all step cycles, 0..1
};

struct TileCycles {
  uint32_t tile = 0;
  uint64_t cycles = 0;  // compute cycles summed over every compute step
};

struct TileHeadroom {
  uint32_t tile = 0;
  uint32_t peak = 0;      // bytes used
  int64_t headroom = 0;   // bytes per tile - peak; negative when over the limit
};

struct TraceSummary {
  TraceInfo info;
  std::vector<RunRow> runs;
  size_t steps = 0;
  size_t requests = 0;
  uint64_t stepCycles = 0;  // all steps of all runs

  std::vector<KindTotal> kinds;  // every kind, in StepKind order
  std::vector<TopStep> topSteps; // by cycles, largest first (ties: earliest first)

  // Tile balance, from /tiles/compute_cycles; absent without tile detail.
  bool tileDetail = false;
  size_t computeSteps = 0;
  uint32_t workingTiles = 0;               // tiles with any compute cycles
  std::vector<TileCycles> busiestTiles;    // most compute cycles first
  std::vector<TileCycles> idlestTiles;     // fewest first, among the working tiles
  uint64_t maxTileCycles = 0;
  double meanTileCycles = 0;               // over every tile of the target
  double meanWorkingTileCycles = 0;        // over the working tiles
  double balance = 0;                      // meanTileCycles / maxTileCycles (1 = perfect)
  double workingBalance = 0;               // meanWorkingTileCycles / maxTileCycles

  // Memory, from /tiles/memory against bytes_per_tile.
  uint32_t tilesUsingMemory = 0;
  uint64_t memoryBytes = 0;               // sum of every tile's peak
  TileHeadroom minHeadroom;               // the fullest tile
  double meanHeadroom = 0;                // over every tile
  std::optional<TileHeadroom> busiestTileMemory;  // the tile with most compute cycles
  std::vector<TileHeadroom> fullestTiles; // least headroom first
};

// `top` bounds the lists (top steps, busiest/idlest/fullest tiles).
TraceSummary summarizeTrace(const Trace& trace, size_t top = 10);

// The report for people; `path` names the trace file in its first line.
std::string summaryText(const TraceSummary& summary, const std::string& path);
// The same as JSON (docs/trace-schema.md, "ipusim trace summary --json").
std::string summaryJson(const TraceSummary& summary, const std::string& path);

}  // namespace ipusim
