// Places a served request stream on one simulated device's timeline under a strategy, and
// sums it up (docs/compare.md). Pure arithmetic on the cycles ServingSimulation measured, so
// the same stream can be re-timed for other fixed load overheads without running it again.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/runtime/latency_stats.h"
#include "sim/runtime/request_stream.h"
#include "sim/runtime/serving_simulation.h"

namespace ipusim {

struct RequestTiming {
  uint32_t model = 0;
  uint64_t arrivalCycle = 0;
  uint64_t startCycle = 0;   // when the device takes it: max(arrival, previous finish)
  uint64_t finishCycle = 0;  // start + load (if any) + run
  uint64_t loadCycles = 0;   // Separate only: the load of its model's executable, else 0
  uint64_t execCycles = 0;
  bool switched = false;     // its model differs from the previous request's
  uint64_t latencyCycles() const { return finishCycle - arrivalCycle; }
};

struct StrategyTimeline {
  Strategy strategy = Strategy::Fused;
  double loadFixedSeconds = 0;
  std::vector<RequestTiming> requests;
  uint64_t switches = 0;
  uint64_t loads = 0;
  uint64_t loadCycles = 0;  // over all loads
};

// One device, FIFO. The start is warm: the fused executable is loaded, or (Separate) the first
// request's model is, so no request pays for the initial load. Closed-loop streams arrive when
// the previous request finishes (the first at cycle 0); others at cyclesForSeconds(arrival).
StrategyTimeline timeStrategy(Strategy strategy, const RequestStream& stream,
                              const ServedStream& served, const std::vector<ModelCosts>& costs,
                              const Target& target, double loadFixedSeconds);

struct StrategyReport {
  uint64_t requests = 0;
  uint64_t switches = 0;
  uint64_t loads = 0;
  double loadUs = 0;
  LatencySummary latencyUs;  // finish - arrival, in microseconds at the target's clock
  double spanUs = 0;         // first arrival to last finish
  double throughputRps = 0;  // requests per second of simulated time over the span
};

StrategyReport summarizeTimeline(const StrategyTimeline& timeline, const Target& target);

struct StrategyRatios {
  double meanLatency = 0;  // separate / fused
  double p99Latency = 0;   // separate / fused
  double throughput = 0;   // fused / separate
};

StrategyRatios strategyRatios(const StrategyReport& fused, const StrategyReport& separate);

// Both strategies at one fixed load overhead.
struct StrategyComparison {
  double loadFixedSeconds = 0;
  StrategyReport fused;
  StrategyReport separate;
  StrategyRatios ratios;
};

StrategyComparison compareStrategies(const RequestStream& stream, const ServedStream& served,
                                     const std::vector<ModelCosts>& costs, const Target& target,
                                     double loadFixedSeconds);

}  // namespace ipusim
