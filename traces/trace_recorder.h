// TraceRecorder: an engine StepObserver that collects what a trace file holds — every step,
// per-tile compute cycles of compute steps and per-tile bytes of exchange steps — grouped
// into numbered runs, plus the run rows and (for `compare`) the request rows.
//
//   TraceRecorder recorder(exe.target.tiles);
//   runner.setObserver(&recorder);
//   recorder.beginRun();
//   RunResult r = runner.execute(index, inputs);
//   recorder.endRun(r.index, loadCycles, r.execCycles, hostNs);
//   writeTrace("run.h5", recorder.finish(traceInfoFor(exe, "exe.popef"), tileMemoryRows(exe)));
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/executable.h"
#include "traces/trace_schema.h"

namespace ipusim {

class TraceRecorder final : public StepObserver {
 public:
  // `tileDetail` false keeps only /steps and /runs: per-tile figures cost `tiles` numbers per
  // compute step (and twice that per exchange step), too much for very long runs.
  explicit TraceRecorder(uint32_t tiles, bool tileDetail = true);

  bool wantsTileDetail() const override { return tileDetail_; }
  void onStep(const StepRecord& step) override;

  // Opens the next run: steps reported from now on belong to it. A step reported while no
  // run is open opens one itself (an engine load, say), and beginRun() then keeps that run,
  // so a load and the execution that follows it are one run. Returns the run number.
  uint32_t beginRun();
  // Closes the open run with its row. Throws TraceError when no run is open.
  void endRun(std::optional<uint32_t> index, uint64_t loadCycles, uint64_t execCycles,
              uint64_t hostNs);
  void addRequest(RequestRow request);

  bool runOpen() const { return open_; }
  uint32_t runCount() const { return static_cast<uint32_t>(trace_.runs.size()) + (open_ ? 1 : 0); }
  const Trace& recorded() const { return trace_; }

  // The finished trace. Throws TraceError when a run is still open.
  Trace finish(TraceInfo info, std::vector<TileMemoryRow> memory) &&;

 private:
  Trace trace_;
  uint32_t tiles_;
  bool tileDetail_;
  bool open_ = false;
  uint32_t nextStep_ = 0;   // within the open run
  uint64_t runClock_ = 0;   // cycles of the open run so far
};

// The root attributes of a trace of `exe`; `executable` names it (the .popef path).
TraceInfo traceInfoFor(const Executable& exe, std::string executable);
// One /tiles/memory row per tile of the target, zeros for tiles that hold nothing.
std::vector<TileMemoryRow> tileMemoryRows(const Executable& exe);
// The version string written to the root attribute ipusim_version.
std::string ipusimVersion();

}  // namespace ipusim
