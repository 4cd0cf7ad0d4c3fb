// `ipusim compare --trace FILE.h5`: the comparison as a trace (docs/trace-schema.md). /runs
// holds every run in the order served: run 2r is request r on the fused executable (index =
// its model), run 2r+1 the same request on its model's own executable (index -1, load_cycles
// = the reload before it, if any). /steps holds those runs' steps without per-tile detail
// (the engine's loads are not steps: they are computed, docs/compare.md). /requests holds each
// request under each strategy, fused first. Root attributes and /tiles/memory describe the
// fused executable.
#pragma once
#include <string>

#include "sim/runtime/serving_simulation.h"
#include "sim/runtime/strategy_timeline.h"
#include "traces/trace_recorder.h"

namespace ipusim::cli {

class CompareTraceRecorder final : public ServeObserver {
 public:
  explicit CompareTraceRecorder(const Target& target);

  StepObserver* stepObserver() override { return &recorder_; }
  void beginRun(Strategy strategy, uint64_t request, uint32_t model) override;
  void endRun(Strategy strategy, uint64_t request, uint32_t model, uint64_t execCycles,
              uint64_t hostNs) override;

  // Adds the loads and the requests of the two timelines and writes the file atomically.
  void write(const std::string& path, const NamedExecutable& fused, const StrategyTimeline& fusedTimeline,
             const StrategyTimeline& separateTimeline) &&;

 private:
  TraceRecorder recorder_;
};

}  // namespace ipusim::cli
