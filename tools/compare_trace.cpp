#include "tools/compare_trace.h"

#include "traces/trace_writer.h"

namespace ipusim::cli {

namespace {

// Per-tile detail is `tiles` numbers per compute step: too much for a stream of requests;
// `ipusim run --trace` records it for one run.
constexpr bool kTileDetail = false;

void addRequests(Trace& trace, const StrategyTimeline& timeline, const Target& target) {
  for (size_t id = 0; id < timeline.requests.size(); ++id) {
    const RequestTiming& t = timeline.requests[id];
    trace.requests.push_back(RequestRow{id, t.model,
                                        std::string(strategyName(timeline.strategy)),
                                        target.microseconds(t.arrivalCycle),
                                        target.microseconds(t.startCycle),
                                        target.microseconds(t.finishCycle),
                                        target.microseconds(t.latencyCycles()), t.switched});
  }
}

}  // namespace

CompareTraceRecorder::CompareTraceRecorder(const Target& target) : recorder_(target.tiles, kTileDetail) {}

void CompareTraceRecorder::beginRun(Strategy, uint64_t, uint32_t) { recorder_.beginRun(); }

void CompareTraceRecorder::endRun(Strategy strategy, uint64_t, uint32_t model, uint64_t execCycles,
                                  uint64_t hostNs) {
  // The load before a separate run depends on the timeline: filled in by write().
  recorder_.endRun(strategy == Strategy::Fused ? std::optional<uint32_t>(model) : std::nullopt, 0,
                   execCycles, hostNs);
}

void CompareTraceRecorder::write(const std::string& path, const NamedExecutable& fused,
                                 const StrategyTimeline& fusedTimeline,
                                 const StrategyTimeline& separateTimeline) && {
  const Executable& exe = *fused.executable;
  Trace trace = std::move(recorder_).finish(traceInfoFor(exe, fused.name), tileMemoryRows(exe));
  if (trace.runs.size() != 2 * separateTimeline.requests.size())
    throw TraceError("the trace recorded " + std::to_string(trace.runs.size()) + " runs for " +
                     std::to_string(separateTimeline.requests.size()) + " requests, expected two each");
  for (size_t id = 0; id < separateTimeline.requests.size(); ++id)
    trace.runs[2 * id + 1].loadCycles = separateTimeline.requests[id].loadCycles;
  addRequests(trace, fusedTimeline, exe.target);
  addRequests(trace, separateTimeline, exe.target);
  writeTrace(path, trace);
}

}  // namespace ipusim::cli
