#include "tools/compare_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace ipusim::cli {

namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// Ratios span from about 1 to about 10^5: enough digits to read either end.
std::string ratioText(double ratio) {
  if (!std::isfinite(ratio)) return "inf";
  return fixed(ratio, ratio >= 100 ? 1 : 3) + "x";
}

// "0", "250 us", "1 ms", "0.5 s".
std::string durationText(double seconds) {
  char buffer[64];
  if (seconds == 0) return "0";
  if (seconds < 1e-3)
    std::snprintf(buffer, sizeof buffer, "%g us", seconds * 1e6);
  else if (seconds < 1)
    std::snprintf(buffer, sizeof buffer, "%g ms", seconds * 1e3);
  else
    std::snprintf(buffer, sizeof buffer, "%g s", seconds);
  return buffer;
}

// Columns right-aligned except the first (and the last, when it is a note); each column as
// wide as its widest cell.
class TextTable {
 public:
  explicit TextTable(bool lastIsNote = false) : lastIsNote_(lastIsNote) {}
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& out, const std::string& indent = "") const {
    std::vector<size_t> width;
    for (const auto& cells : rows_)
      for (size_t c = 0; c < cells.size(); ++c) {
        if (width.size() <= c) width.push_back(0);
        width[c] = std::max(width[c], cells[c].size());
      }
    for (const auto& cells : rows_) {
      std::string line = indent;
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string pad(width[c] - cells[c].size(), ' ');
        const bool left = c == 0 || (lastIsNote_ && c + 1 == width.size());
        line += c == 0 ? cells[c] + pad : left ? "  " + cells[c] + pad : "  " + pad + cells[c];
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  bool lastIsNote_;
};

std::string arrivalsText(const StreamDescription& s) {
  if (s.arrivals == "poisson") return "Poisson arrivals at " + fixed(*s.rateRps, 1) + " requests/s";
  if (s.arrivals == "file") return "arrival times from the file";
  return "closed loop (each request arrives when the previous one finishes)";
}

std::string patternText(const StreamDescription& s) {
  if (s.pattern == "burst") return "burst of " + std::to_string(*s.burstLength);
  if (s.pattern == "file") return "from " + s.requestsFile;
  if (s.pattern == "random") {
    std::string mix;
    for (double w : s.mix) {
      if (!mix.empty()) mix += ',';
      mix += fixed(w, 3);
    }
    return "random, mix " + mix;
  }
  return s.pattern;
}

struct SwitchCycles {
  CycleBreakdown fused;
  CycleBreakdown separate;  // load included
  uint64_t loadFixed = 0, loadTransfer = 0, loadProgram = 0;
};

// Switching to model m: the fused executable only runs it; the separate strategy first loads
// m's executable, then runs it.
SwitchCycles switchTo(const CompareResult& r, size_t m) {
  const Target& target = r.pairing->target();
  const ModelCosts& cost = r.costs[m];
  SwitchCycles s;
  s.fused = cost.fusedRun;
  s.separate = cost.separateRun;
  s.separate.load = cost.loadCycles(target, r.main.loadFixedSeconds);
  s.loadFixed = target.cyclesForSeconds(r.main.loadFixedSeconds);
  s.loadTransfer = target.hostTransferCycles(cost.loadImageBytes);
  s.loadProgram = cost.loadProgramCycles;
  return s;
}

void writeStrategy(json::Writer& w, const StrategyReport& s) {
  w.beginObject()
      .field("requests", s.requests)
      .field("switches", s.switches)
      .field("loads", s.loads)
      .field("load_us", s.loadUs)
      .field("mean_us", s.latencyUs.mean)
      .field("p50_us", s.latencyUs.p50)
      .field("p90_us", s.latencyUs.p90)
      .field("p99_us", s.latencyUs.p99)
      .field("max_us", s.latencyUs.max)
      .field("throughput_rps", s.throughputRps)
      .field("span_us", s.spanUs)
      .endObject();
}

void writeComparison(json::Writer& w, const StrategyComparison& c) {
  w.key("strategies").beginObject().key("fused");
  writeStrategy(w, c.fused);
  w.key("separate");
  writeStrategy(w, c.separate);
  w.endObject();
  w.key("ratios")
      .beginObject()
      .field("mean_latency", c.ratios.meanLatency)
      .field("p99_latency", c.ratios.p99Latency)
      .field("throughput", c.ratios.throughput)
      .endObject();
}

void writeBreakdown(json::Writer& w, const CycleBreakdown& b, const Target& target) {
  w.field("load_cycles", b.load)
      .field("stream_cycles", b.stream)
      .field("switch_cycles", b.switching)
      .field("execute_cycles", b.execute)
      .field("total_cycles", b.total())
      .field("total_us", target.microseconds(b.total()));
}

void writeNames(json::Writer& w, std::string_view key, const std::vector<AnchorPair>& anchors) {
  w.key(key).beginArray();
  for (const AnchorPair& a : anchors) w.value(a.separate);
  w.endArray();
}

}  // namespace

void printCompareReport(std::ostream& out, const CompareResult& r) {
  const ExecutablePairing& pairing = *r.pairing;
  const Target& target = pairing.target();
  out << "fused " << pairing.fused.name << " against " << pairing.models.size()
      << " separate executables, " << target.name << " at " << target.clockHz / 1e9 << " GHz\n";
  for (const ModelPair& m : pairing.models)
    out << "  model " << m.index << "  " << m.sourceModel << "  (separate: " << m.separate.name
        << ", load image " << r.costs[m.index].loadImageBytes << " bytes)\n";
  out << "requests: " << r.stream.requests << ", pattern " << patternText(r.stream) << ", "
      << arrivalsText(r.stream) << ", seed " << r.stream.seed << "\n"
      << "start: warm (fused loaded; separate: the first request's model loaded); each load: "
      << durationText(r.main.loadFixedSeconds)
      << " fixed overhead (an assumption) + its image over the host link\n"
      << "outputs: all " << r.outputsCompared << " outputs of the " << r.stream.requests
      << " requests are equal under both strategies, bit for bit\n\n";

  const StrategyReport& f = r.main.fused;
  const StrategyReport& s = r.main.separate;
  TextTable table(true);
  table.row({"", "fused", "separate", "ratio"});
  table.row({"requests", std::to_string(f.requests), std::to_string(s.requests), ""});
  table.row({"switches", std::to_string(f.switches), std::to_string(s.switches), ""});
  table.row({"loads", std::to_string(f.loads), std::to_string(s.loads), ""});
  table.row({"load time (us)", fixed(f.loadUs, 3), fixed(s.loadUs, 3), ""});
  table.row({"mean latency (us)", fixed(f.latencyUs.mean, 3), fixed(s.latencyUs.mean, 3),
             ratioText(r.main.ratios.meanLatency) + " separate/fused"});
  table.row({"p50 latency (us)", fixed(f.latencyUs.p50, 3), fixed(s.latencyUs.p50, 3), ""});
  table.row({"p90 latency (us)", fixed(f.latencyUs.p90, 3), fixed(s.latencyUs.p90, 3), ""});
  table.row({"p99 latency (us)", fixed(f.latencyUs.p99, 3), fixed(s.latencyUs.p99, 3),
             ratioText(r.main.ratios.p99Latency) + " separate/fused"});
  table.row({"max latency (us)", fixed(f.latencyUs.max, 3), fixed(s.latencyUs.max, 3), ""});
  table.row({"throughput (requests/s)", fixed(f.throughputRps, 3), fixed(s.throughputRps, 3),
             ratioText(r.main.ratios.throughput) + " fused/separate"});
  table.print(out);

  out << "\none switch, in cycles (the separate strategy loads the model's executable first):\n";
  TextTable cycles;
  cycles.row({"", "", "load", "stream", "switch", "execute", "total", "us"});
  for (size_t m = 0; m < pairing.models.size(); ++m) {
    const SwitchCycles sw = switchTo(r, m);
    for (const auto& [label, b] : {std::pair{"fused", sw.fused}, std::pair{"separate", sw.separate}})
      cycles.row({label == std::string("fused") ? "to model " + std::to_string(m) : "", label,
                  std::to_string(b.load), std::to_string(b.stream), std::to_string(b.switching),
                  std::to_string(b.execute), std::to_string(b.total()),
                  fixed(target.microseconds(b.total()), 3)});
  }
  cycles.print(out, "  ");
  const SwitchCycles first = switchTo(r, 0);
  out << "  a load = fixed overhead " << first.loadFixed << " + image over the host link (model 0: "
      << first.loadTransfer << ") + the load program (model 0: " << first.loadProgram << ")\n";

  if (!r.sweep.empty()) {
    out << "\nsweep of the fixed load overhead (the same requests, re-timed):\n";
    TextTable sweep;
    sweep.row({"overhead", "separate mean (us)", "mean latency", "p99 latency", "throughput"});
    sweep.row({"", "", "separate/fused", "separate/fused", "fused/separate"});
    for (const StrategyComparison& c : r.sweep)
      sweep.row({durationText(c.loadFixedSeconds), fixed(c.separate.latencyUs.mean, 3),
                 ratioText(c.ratios.meanLatency), ratioText(c.ratios.p99Latency),
                 ratioText(c.ratios.throughput)});
    sweep.print(out, "  ");
  }
  out << "\nhost: " << fixed(r.serveHostSeconds, 3) << " s to run the " << r.stream.requests
      << " requests under both strategies, " << fixed(r.totalHostSeconds, 3) << " s in all\n";
}

std::string compareJson(const CompareResult& r) {
  const ExecutablePairing& pairing = *r.pairing;
  const Target& target = pairing.target();
  json::Writer w;
  w.beginObject()
      .field("target", target.name)
      .field("clock_hz", target.clockHz)
      .field("fused_executable", pairing.fused.name)
      .field("fused_load_image_bytes", pairing.fused.executable->loadImageBytes());
  w.key("models").beginArray();
  for (const ModelPair& m : pairing.models) {
    w.beginObject()
        .field("index", m.index)
        .field("source_model", m.sourceModel)
        .field("separate_executable", m.separate.name)
        .field("load_image_bytes", r.costs[m.index].loadImageBytes);
    writeNames(w, "inputs", m.inputs);
    writeNames(w, "outputs", m.outputs);
    w.endObject();
  }
  w.endArray();

  const StreamDescription& s = r.stream;
  w.field("pattern", s.pattern).key("burst_length");
  if (s.burstLength)
    w.value(*s.burstLength);
  else
    w.null();
  w.key("mix");
  if (s.mix.empty()) {
    w.null();
  } else {
    w.beginArray();
    for (double weight : s.mix) w.value(weight);
    w.endArray();
  }
  w.key("requests_file");
  if (s.requestsFile.empty())
    w.null();
  else
    w.value(s.requestsFile);
  w.field("arrivals", s.arrivals).key("rate_rps");
  if (s.rateRps)
    w.value(*s.rateRps);
  else
    w.null();
  w.field("seed", s.seed)
      .field("requests", s.requests)
      .field("start", "warm")
      .field("load_fixed_seconds", r.main.loadFixedSeconds)
      .field("outputs_compared", r.outputsCompared)
      .field("outputs_equal", true);
  writeComparison(w, r.main);

  w.key("switch_breakdown").beginArray();
  for (size_t m = 0; m < pairing.models.size(); ++m) {
    const SwitchCycles sw = switchTo(r, m);
    w.beginObject().field("model", m).key("fused").beginObject();
    writeBreakdown(w, sw.fused, target);
    w.endObject().key("separate").beginObject();
    writeBreakdown(w, sw.separate, target);
    w.field("load_fixed_cycles", sw.loadFixed)
        .field("load_transfer_cycles", sw.loadTransfer)
        .field("load_program_cycles", sw.loadProgram)
        .endObject()
        .endObject();
  }
  w.endArray();

  w.key("sweep").beginArray();
  for (const StrategyComparison& c : r.sweep) {
    w.beginObject().field("load_fixed_seconds", c.loadFixedSeconds);
    writeComparison(w, c);
    w.endObject();
  }
  w.endArray();
  w.field("host_seconds", r.totalHostSeconds).field("serve_host_seconds", r.serveHostSeconds);
  w.endObject();
  return w.str();
}

}  // namespace ipusim::cli
