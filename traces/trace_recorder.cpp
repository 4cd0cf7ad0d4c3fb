#include "traces/trace_recorder.h"

#include <utility>

namespace ipusim {

TraceRecorder::TraceRecorder(uint32_t tiles, bool tileDetail) : tiles_(tiles), tileDetail_(tileDetail) {
  if (tiles == 0) throw TraceError("a trace needs at least one tile");
}

void TraceRecorder::onStep(const StepRecord& step) {
  if (!open_) beginRun();
  if (tileDetail_) {
    // The engine hands dense per-tile spans to an observer that wants detail; anything else
    // is a bug, and a trace with rows of the wrong width would mislead every reader.
    if (step.kind == StepKind::Compute) {
      if (step.tileCycles.size() != tiles_)
        throw TraceError("compute step '" + std::string(step.name) + "' reported " +
                         std::to_string(step.tileCycles.size()) + " tile cycles, expected " +
                         std::to_string(tiles_));
      trace_.computeCycles.insert(trace_.computeCycles.end(), step.tileCycles.begin(),
                                  step.tileCycles.end());
    } else if (step.kind == StepKind::Exchange) {
      if (step.tileBytesSent.size() != tiles_ || step.tileBytesReceived.size() != tiles_)
        throw TraceError("exchange step '" + std::string(step.name) +
                         "' reported per-tile bytes for the wrong number of tiles");
      const size_t base = trace_.exchangeBytes.size();
      trace_.exchangeBytes.resize(base + size_t{tiles_} * 2);
      uint64_t* row = trace_.exchangeBytes.data() + base;
      for (uint32_t t = 0; t < tiles_; ++t) {
        row[2 * t] = step.tileBytesSent[t];
        row[2 * t + 1] = step.tileBytesReceived[t];
      }
    }
  }
  // The engine's clock restarts at every load and every run; the trace counts from the start
  // of the run, so a load recorded in the same run is followed by its execution.
  trace_.steps.push_back(StepRow{static_cast<uint32_t>(trace_.runs.size()), nextStep_, step.kind,
                                 std::string(step.name), runClock_, step.cycles, step.bytes});
  ++nextStep_;
  runClock_ += step.cycles;
}

uint32_t TraceRecorder::beginRun() {
  if (!open_) {
    open_ = true;
    nextStep_ = 0;
    runClock_ = 0;
  }
  return static_cast<uint32_t>(trace_.runs.size());
}

void TraceRecorder::endRun(std::optional<uint32_t> index, uint64_t loadCycles, uint64_t execCycles,
                           uint64_t hostNs) {
  if (!open_) throw TraceError("endRun: no run is open");
  trace_.runs.push_back(RunRow{static_cast<uint32_t>(trace_.runs.size()),
                               index ? static_cast<int64_t>(*index) : int64_t{-1}, loadCycles,
                               execCycles, hostNs});
  open_ = false;
}

void TraceRecorder::addRequest(RequestRow request) { trace_.requests.push_back(std::move(request)); }

Trace TraceRecorder::finish(TraceInfo info, std::vector<TileMemoryRow> memory) && {
  if (open_) throw TraceError("finish: run " + std::to_string(trace_.runs.size()) + " is still open");
  if (info.tiles != tiles_)
    throw TraceError("finish: the trace info names " + std::to_string(info.tiles) +
                     " tiles, the recorder recorded " + std::to_string(tiles_));
  trace_.info = std::move(info);
  trace_.memory = std::move(memory);
  return std::move(trace_);
}

TraceInfo traceInfoFor(const Executable& exe, std::string executable) {
  TraceInfo info;
  info.ipusimVersion = ipusimVersion();
  info.executable = std::move(executable);
  info.target = exe.target.name;
  info.clockHz = exe.target.clockHz;
  info.tiles = exe.target.tiles;
  info.bytesPerTile = exe.target.bytesPerTile;
  return info;
}

std::vector<TileMemoryRow> tileMemoryRows(const Executable& exe) {
  std::vector<TileMemoryRow> rows(exe.target.tiles);
  for (uint32_t t = 0; t < rows.size(); ++t) rows[t].tile = t;
  for (const TileMemoryUsage& usage : exe.tileMemory) {
    if (usage.tile >= rows.size())
      throw TraceError("the executable's memory table names tile " + std::to_string(usage.tile) +
                       " of a " + std::to_string(rows.size()) + "-tile target");
    rows[usage.tile] = TileMemoryRow{usage.tile,      usage.code,      usage.vertexState,
                                     usage.constants, usage.variables, usage.total()};
  }
  return rows;
}

std::string ipusimVersion() { return IPUSIM_VERSION; }

}  // namespace ipusim
