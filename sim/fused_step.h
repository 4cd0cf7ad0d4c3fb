// An exchange followed directly by a compute set, run tile by tile on the host: each tile
// receives its copies, then runs its vertices while the copied bytes are still in the host's
// caches (a product's operand blocks, a reducer's partials). The simulated machine does not
// change: the same bytes reach the same places, and both steps are timed and reported as if
// run one after the other. It is only done when that is provably the same superstep pair: no
// copy writes bytes another copy reads, and no vertex region of the compute set overlaps bytes
// the exchange reads (a vertex could write them before a later tile's copy reads them).
// Engine internals (DESIGN.md section 4); the measured gain is in docs/conv-planner.md.
#pragma once
#include <cstdint>
#include <exception>
#include <optional>
#include <vector>

#include "sim/copy_runs.h"
#include "sim/engine_plan.h"
#include "sim/executable.h"

namespace ipusim {

// Copies [begin, end) of the exchange, all to one destination tile (or runs [begin, end) of
// FusedStepPlan::runs when it has them).
struct CopySegment {
  uint32_t begin = 0;
  uint32_t end = 0;
};

struct FusedTile {
  uint32_t tile = 0;
  int64_t work = -1;  // its TileWork in the compute plan, or -1 when it only receives
  uint32_t firstSegment = 0;
  uint32_t segmentCount = 0;
};

struct FusedStepPlan {
  std::vector<FusedTile> tiles;  // ascending tile order
  std::vector<CopySegment> segments;
  // The copies as strided runs (sim/copy_runs.h), kept only where that makes them at least
  // four times fewer: an exchange of single elements, not a product's operand blocks.
  std::vector<CopyRun> runs;
  std::vector<std::exception_ptr> errors;  // per FusedTile, filled by a run
};

// The plan for running `exchange` then `computeSet` tile by tile, or nullopt when that could
// change what they compute, or when the copies interleave their destinations so finely that
// the plan would cost more memory than it saves time.
std::optional<FusedStepPlan> planFusedStep(const Exchange& exchange, const ExchangePlan& exchangePlan,
                                           const ComputeSet& computeSet, const ComputePlan& computePlan);
// The same for an exchange alone (no FusedTile has work), so that its destination tiles can
// be shared by the host threads and its copies run as strided runs; nullopt as above.
std::optional<FusedStepPlan> planExchangeByTile(const Exchange& exchange, const ExchangePlan& exchangePlan);

}  // namespace ipusim
