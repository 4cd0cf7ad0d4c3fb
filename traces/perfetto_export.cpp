#include "traces/perfetto_export.h"

#include <map>

#include "popef/json_writer.h"

namespace ipusim {

namespace {

constexpr int kStepsPid = 1;     // the simulated IPU
constexpr int kRequestsPid = 2;  // the requests of `compare`
constexpr int kRunsTid = 0;      // the runs track sits above the step kinds

// Step kind k gets track k + 1, so the tracks list in StepKind order.
int trackOf(StepKind kind) { return static_cast<int>(kind) + 1; }

void metadata(json::Writer& w, const char* what, int pid, int tid, const std::string& value,
              const char* field = "name") {
  w.beginObject().field("name", what).field("ph", "M").field("pid", pid).field("tid", tid);
  w.key("args").beginObject().field(field, value).endObject();
  w.endObject();
}

void sortIndex(json::Writer& w, int pid, int tid, int index) {
  w.beginObject().field("name", "thread_sort_index").field("ph", "M").field("pid", pid).field("tid", tid);
  w.key("args").beginObject().field("sort_index", index).endObject();
  w.endObject();
}

// A complete ("X") event.
void slice(json::Writer& w, const std::string& name, std::string_view category, double ts, double dur,
           int pid, int tid) {
  w.beginObject()
      .field("name", name)
      .field("cat", category)
      .field("ph", "X")
      .field("ts", ts)
      .field("dur", dur)
      .field("pid", pid)
      .field("tid", tid);
}

}  // namespace

std::string perfettoJson(const Trace& trace) {
  const TraceInfo& info = trace.info;
  const double usPerCycle = info.clockHz > 0 ? 1e6 / info.clockHz : 0;
  json::Writer w(0);  // one line: traces can hold many thousands of events
  w.beginObject().field("displayTimeUnit", "ns");
  w.key("otherData")
      .beginObject()
      .field("ipusim_version", info.ipusimVersion)
      .field("schema_version", info.schemaVersion)
      .field("executable", info.executable)
      .field("target", info.target)
      .field("clock_hz", info.clockHz)
      .field("tiles", info.tiles)
      .endObject();

  w.key("traceEvents").beginArray();
  metadata(w, "process_name", kStepsPid, 0, "ipusim " + info.target + ": " + info.executable);
  metadata(w, "thread_name", kStepsPid, kRunsTid, "runs");
  sortIndex(w, kStepsPid, kRunsTid, kRunsTid);
  for (StepKind kind : kAllStepKinds) {
    metadata(w, "thread_name", kStepsPid, trackOf(kind), std::string(stepKindName(kind)));
    sortIndex(w, kStepsPid, trackOf(kind), trackOf(kind));
  }

  // Where each run starts on the common timeline: the end of the previous run's steps.
  std::vector<uint64_t> runCycles(trace.runs.size(), 0);
  for (const StepRow& s : trace.steps)
    if (s.run < runCycles.size()) runCycles[s.run] += s.cycles;
  std::vector<uint64_t> runStart(trace.runs.size(), 0);
  for (size_t r = 1; r < runStart.size(); ++r) runStart[r] = runStart[r - 1] + runCycles[r - 1];

  for (const RunRow& r : trace.runs) {
    std::string name = "run " + std::to_string(r.run);
    if (r.index >= 0) name += " (index " + std::to_string(r.index) + ")";
    slice(w, name, "run", static_cast<double>(runStart[r.run]) * usPerCycle,
          static_cast<double>(runCycles[r.run]) * usPerCycle, kStepsPid, kRunsTid);
    w.key("args")
        .beginObject()
        .field("index", r.index)
        .field("load_cycles", r.loadCycles)
        .field("exec_cycles", r.execCycles)
        .field("host_ns", r.hostNs)
        .endObject();
    w.endObject();
  }

  for (const StepRow& s : trace.steps) {
    const uint64_t start = (s.run < runStart.size() ? runStart[s.run] : 0) + s.startCycle;
    slice(w, s.name, stepKindName(s.kind), static_cast<double>(start) * usPerCycle,
          static_cast<double>(s.cycles) * usPerCycle, kStepsPid, trackOf(s.kind));
    w.key("args")
        .beginObject()
        .field("run", s.run)
        .field("step", s.step)
        .field("start_cycle", s.startCycle)
        .field("cycles", s.cycles)
        .field("bytes", s.bytes)
        .endObject();
    w.endObject();
  }

  if (!trace.requests.empty()) {
    metadata(w, "process_name", kRequestsPid, 0, "requests");
    std::map<std::string, int> strategyTrack;
    for (const RequestRow& r : trace.requests)
      if (strategyTrack.emplace(r.strategy, static_cast<int>(strategyTrack.size()) + 1).second)
        metadata(w, "thread_name", kRequestsPid, strategyTrack[r.strategy], "requests: " + r.strategy);
    for (const RequestRow& r : trace.requests) {
      slice(w, "request " + std::to_string(r.id) + " (model " + std::to_string(r.model) + ")",
            "request", r.startUs, r.finishUs - r.startUs, kRequestsPid, strategyTrack[r.strategy]);
      w.key("args")
          .beginObject()
          .field("id", r.id)
          .field("model", r.model)
          .field("strategy", r.strategy)
          .field("arrival_us", r.arrivalUs)
          .field("latency_us", r.latencyUs)
          .field("switched", r.switched)
          .endObject();
      w.endObject();
    }
  }
  w.endArray();
  w.endObject();
  return w.str();
}

}  // namespace ipusim
