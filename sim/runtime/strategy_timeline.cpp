#include "sim/runtime/strategy_timeline.h"

#include <algorithm>
#include <limits>

namespace ipusim {

namespace {

double ratio(double numerator, double denominator) {
  if (denominator > 0) return numerator / denominator;
  return numerator > 0 ? std::numeric_limits<double>::infinity() : 1.0;
}

}  // namespace

StrategyTimeline timeStrategy(Strategy strategy, const RequestStream& stream,
                              const ServedStream& served, const std::vector<ModelCosts>& costs,
                              const Target& target, double loadFixedSeconds) {
  if (served.requests.size() != stream.size())
    throw RuntimeError("the served stream has " + std::to_string(served.requests.size()) +
                       " requests, the request stream " + std::to_string(stream.size()));
  StrategyTimeline timeline;
  timeline.strategy = strategy;
  timeline.loadFixedSeconds = loadFixedSeconds;
  timeline.requests.reserve(stream.size());
  // Each model's load costs the same every time: computed once per model.
  std::vector<uint64_t> loadCycles;
  for (const ModelCosts& cost : costs) loadCycles.push_back(cost.loadCycles(target, loadFixedSeconds));

  uint64_t previousFinish = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    const ServedRequest& request = served.requests[i];
    RequestTiming timing;
    timing.model = request.model;
    timing.switched = i > 0 && request.model != served.requests[i - 1].model;
    timing.arrivalCycle = stream.closedLoop()
                              ? previousFinish
                              : target.cyclesForSeconds(stream.arrivalUs[i] * 1e-6);
    timing.startCycle = std::max(timing.arrivalCycle, previousFinish);
    if (strategy == Strategy::Fused) {
      timing.execCycles = request.fusedExecCycles;
    } else {
      timing.execCycles = request.separateExecCycles;
      // Warm start: the first request's model is already loaded.
      if (timing.switched) {
        timing.loadCycles = loadCycles.at(request.model);
        ++timeline.loads;
        timeline.loadCycles += timing.loadCycles;
      }
    }
    if (timing.switched) ++timeline.switches;
    timing.finishCycle = timing.startCycle + timing.loadCycles + timing.execCycles;
    previousFinish = timing.finishCycle;
    timeline.requests.push_back(timing);
  }
  return timeline;
}

StrategyReport summarizeTimeline(const StrategyTimeline& timeline, const Target& target) {
  StrategyReport report;
  report.requests = timeline.requests.size();
  report.switches = timeline.switches;
  report.loads = timeline.loads;
  report.loadUs = target.microseconds(timeline.loadCycles);
  std::vector<double> latencies;
  latencies.reserve(timeline.requests.size());
  for (const RequestTiming& r : timeline.requests) latencies.push_back(target.microseconds(r.latencyCycles()));
  report.latencyUs = summarizeLatencies(latencies);
  const uint64_t first = timeline.requests.front().arrivalCycle;
  const uint64_t last = timeline.requests.back().finishCycle;  // FIFO: the last finishes last
  report.spanUs = target.microseconds(last - first);
  report.throughputRps = throughputPerSecond(report.requests, report.spanUs * 1e-6);
  return report;
}

StrategyRatios strategyRatios(const StrategyReport& fused, const StrategyReport& separate) {
  return {ratio(separate.latencyUs.mean, fused.latencyUs.mean),
          ratio(separate.latencyUs.p99, fused.latencyUs.p99),
          ratio(fused.throughputRps, separate.throughputRps)};
}

StrategyComparison compareStrategies(const RequestStream& stream, const ServedStream& served,
                                     const std::vector<ModelCosts>& costs, const Target& target,
                                     double loadFixedSeconds) {
  StrategyComparison comparison;
  comparison.loadFixedSeconds = loadFixedSeconds;
  comparison.fused = summarizeTimeline(
      timeStrategy(Strategy::Fused, stream, served, costs, target, loadFixedSeconds), target);
  comparison.separate = summarizeTimeline(
      timeStrategy(Strategy::Separate, stream, served, costs, target, loadFixedSeconds), target);
  comparison.ratios = strategyRatios(comparison.fused, comparison.separate);
  return comparison;
}

}  // namespace ipusim
