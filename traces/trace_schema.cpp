#include "traces/trace_schema.h"

#include <algorithm>
#include <cmath>

namespace ipusim {

size_t Trace::countSteps(StepKind kind) const {
  return static_cast<size_t>(
      std::count_if(steps.begin(), steps.end(), [kind](const StepRow& s) { return s.kind == kind; }));
}

StepKind stepKindFromName(std::string_view name) {
  for (StepKind kind : kAllStepKinds)
    if (stepKindName(kind) == name) return kind;
  throw TraceError("unknown step kind '" + std::string(name) +
                   "' (expected compute, exchange, sync, stream, switch or load)");
}

void checkTrace(const Trace& trace) {
  const TraceInfo& info = trace.info;
  if (info.tiles == 0) throw TraceError("the trace names no tiles (attribute tiles is 0)");
  if (!(info.clockHz > 0) || !std::isfinite(info.clockHz))
    throw TraceError("the trace's clock_hz is not a positive finite frequency");

  for (size_t i = 0; i < trace.runs.size(); ++i)
    if (trace.runs[i].run != i)
      throw TraceError("/runs row " + std::to_string(i) + " is numbered run " +
                       std::to_string(trace.runs[i].run) + ": runs must be numbered 0, 1, ...");

  // Steps come run by run, numbered 0, 1, ... within each run, each starting where the
  // previous one ended: that is what makes a run's steps add up to its cycles.
  uint32_t run = 0, nextStep = 0;
  uint64_t clock = 0;
  for (size_t i = 0; i < trace.steps.size(); ++i) {
    const StepRow& s = trace.steps[i];
    const std::string where = "/steps row " + std::to_string(i);
    if (s.run >= trace.runs.size())
      throw TraceError(where + " belongs to run " + std::to_string(s.run) + ", which /runs lacks");
    if (i == 0 || s.run != run) {
      if (i != 0 && s.run < run) throw TraceError(where + ": steps are not in run order");
      run = s.run;
      nextStep = 0;
      clock = 0;
    }
    if (s.step != nextStep)
      throw TraceError(where + " is step " + std::to_string(s.step) + ", expected " +
                       std::to_string(nextStep));
    if (s.startCycle != clock)
      throw TraceError(where + " starts at cycle " + std::to_string(s.startCycle) +
                       ", expected " + std::to_string(clock) + " (where the previous step ended)");
    ++nextStep;
    clock += s.cycles;
  }

  // The sums hold: a run's steps add up to its exec cycles, plus its load cycles when the
  // load was recorded in the run. A run recorded without steps has nothing to add up.
  std::vector<uint64_t> cycles(trace.runs.size(), 0), steps(trace.runs.size(), 0);
  std::vector<bool> loaded(trace.runs.size(), false);
  for (const StepRow& s : trace.steps) {
    cycles[s.run] += s.cycles;
    ++steps[s.run];
    if (s.kind == StepKind::Load) loaded[s.run] = true;
  }
  for (size_t r = 0; r < trace.runs.size(); ++r) {
    if (steps[r] == 0) continue;
    const RunRow& row = trace.runs[r];
    const uint64_t expected = row.execCycles + (loaded[r] ? row.loadCycles : 0);
    if (cycles[r] != expected)
      throw TraceError("the steps of run " + std::to_string(r) + " add up to " +
                       std::to_string(cycles[r]) + " cycles, but /runs gives " +
                       std::to_string(expected) +
                       (loaded[r] ? " (load_cycles + exec_cycles)" : " (exec_cycles)"));
  }

  const size_t tiles = info.tiles;
  const size_t computeSteps = trace.countSteps(StepKind::Compute);
  const size_t exchangeSteps = trace.countSteps(StepKind::Exchange);
  if (!trace.computeCycles.empty() && trace.computeCycles.size() != computeSteps * tiles)
    throw TraceError("/tiles/compute_cycles holds " + std::to_string(trace.computeCycles.size()) +
                     " values, expected " + std::to_string(computeSteps) + " compute steps x " +
                     std::to_string(tiles) + " tiles");
  if (!trace.exchangeBytes.empty() && trace.exchangeBytes.size() != exchangeSteps * tiles * 2)
    throw TraceError("/tiles/exchange_bytes holds " + std::to_string(trace.exchangeBytes.size()) +
                     " values, expected " + std::to_string(exchangeSteps) + " exchange steps x " +
                     std::to_string(tiles) + " tiles x 2");

  // A tile cannot outlast its bulk-synchronous step, and every byte sent is received.
  size_t computeRow = 0, exchangeRow = 0;
  for (const StepRow& s : trace.steps) {
    if (s.kind == StepKind::Compute && !trace.computeCycles.empty()) {
      const uint64_t* row = trace.computeCycles.data() + computeRow * tiles;
      for (size_t t = 0; t < tiles; ++t)
        if (row[t] > s.cycles)
          throw TraceError("/tiles/compute_cycles: tile " + std::to_string(t) + " takes " +
                           std::to_string(row[t]) + " cycles in compute step '" + s.name +
                           "' of run " + std::to_string(s.run) + ", which lasts " +
                           std::to_string(s.cycles));
      ++computeRow;
    } else if (s.kind == StepKind::Exchange && !trace.exchangeBytes.empty()) {
      const uint64_t* row = trace.exchangeBytes.data() + exchangeRow * tiles * 2;
      uint64_t sent = 0, received = 0;
      for (size_t t = 0; t < tiles; ++t) {
        sent += row[2 * t];
        received += row[2 * t + 1];
      }
      if (sent != s.bytes || received != s.bytes)
        throw TraceError("/tiles/exchange_bytes: exchange step '" + s.name + "' of run " +
                         std::to_string(s.run) + " moves " + std::to_string(s.bytes) +
                         " bytes, but its tiles send " + std::to_string(sent) + " and receive " +
                         std::to_string(received));
      ++exchangeRow;
    }
  }

  // Request times are microseconds on the host's clock: NaN or infinite ones are damage.
  for (size_t i = 0; i < trace.requests.size(); ++i) {
    const RequestRow& r = trace.requests[i];
    for (double value : {r.arrivalUs, r.startUs, r.finishUs, r.latencyUs})
      if (!std::isfinite(value))
        throw TraceError("/requests row " + std::to_string(i) + " holds a time that is not a finite number");
  }

  if (trace.memory.size() != tiles)
    throw TraceError("/tiles/memory has " + std::to_string(trace.memory.size()) +
                     " rows, expected one per tile (" + std::to_string(tiles) + ")");
  for (size_t i = 0; i < trace.memory.size(); ++i) {
    const TileMemoryRow& m = trace.memory[i];
    if (m.tile != i)
      throw TraceError("/tiles/memory row " + std::to_string(i) + " is tile " +
                       std::to_string(m.tile));
    const uint64_t sum = uint64_t{m.code} + m.vertexState + m.constants + m.variables;
    if (m.peak != sum)
      throw TraceError("/tiles/memory tile " + std::to_string(i) + ": peak " +
                       std::to_string(m.peak) + " is not code + vertex_state + constants + " +
                       "variables (" + std::to_string(sum) + ")");
  }
}

}  // namespace ipusim
