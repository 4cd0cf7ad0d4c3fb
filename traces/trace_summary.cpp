#include "traces/trace_summary.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "popef/json_writer.h"

namespace ipusim {

namespace {

constexpr size_t kRunsListed = 10;  // runs listed in the text report; JSON lists all

double micros(uint64_t cycles, double clockHz) {
  return clockHz > 0 ? static_cast<double>(cycles) / clockHz * 1e6 : 0;
}

TileHeadroom headroomOf(const TileMemoryRow& row, uint32_t bytesPerTile) {
  return {row.tile, row.peak, int64_t{bytesPerTile} - int64_t{row.peak}};
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string percent(double share) { return fixed(share * 100, 1) + "%"; }

// "4.471 us", "500.001 ms", "1.250 s": the unit that reads best.
std::string duration(double us) {
  if (us < 1e3) return fixed(us, 3) + " us";
  if (us < 1e6) return fixed(us / 1e3, 3) + " ms";
  return fixed(us / 1e6, 3) + " s";
}

std::string pad(const std::string& text, size_t width, bool right = true) {
  if (text.size() >= width) return text;
  const std::string fill(width - text.size(), ' ');
  return right ? fill + text : text + fill;
}

std::string tileList(const std::vector<TileCycles>& tiles) {
  std::string out;
  for (const TileCycles& t : tiles)
    out += (out.empty() ? "" : ", ") + ("tile " + std::to_string(t.tile)) + " (" +
           std::to_string(t.cycles) + ")";
  return out.empty() ? "(none)" : out;
}

}  // namespace

TraceSummary summarizeTrace(const Trace& trace, size_t top) {
  TraceSummary s;
  s.info = trace.info;
  s.runs = trace.runs;
  s.steps = trace.steps.size();
  s.requests = trace.requests.size();

  for (StepKind kind : kAllStepKinds) s.kinds.push_back({kind, 0, 0, 0});
  for (const StepRow& step : trace.steps) {
    KindTotal& total = s.kinds[static_cast<size_t>(step.kind)];
    ++total.steps;
    total.cycles += step.cycles;
    s.stepCycles += step.cycles;
  }
  const auto shareOf = [&](uint64_t cycles) {
    return s.stepCycles > 0 ? static_cast<double>(cycles) / static_cast<double>(s.stepCycles) : 0.0;
  };
  for (KindTotal& total : s.kinds) total.share = shareOf(total.cycles);

  std::vector<size_t> order(trace.steps.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t topSteps = std::min(top, order.size());
  // Stable on ties, so equal steps list in the order they ran.
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(topSteps), order.end(),
                    [&](size_t a, size_t b) {
                      const uint64_t ca = trace.steps[a].cycles, cb = trace.steps[b].cycles;
                      return ca != cb ? ca > cb : a < b;
                    });
  for (size_t i = 0; i < topSteps; ++i) {
    const StepRow& step = trace.steps[order[i]];
    s.topSteps.push_back({step.run, step.step, step.kind, step.name, step.cycles, shareOf(step.cycles)});
  }

  const uint32_t tiles = trace.info.tiles;
  s.computeSteps = trace.countSteps(StepKind::Compute);
  s.tileDetail = !trace.computeCycles.empty();
  std::vector<TileCycles> perTile(tiles);
  for (uint32_t t = 0; t < tiles; ++t) perTile[t].tile = t;
  if (!trace.computeCycles.empty()) {
    for (size_t row = 0; row < s.computeSteps; ++row)
      for (uint32_t t = 0; t < tiles; ++t) perTile[t].cycles += trace.computeCycles[row * tiles + t];
    uint64_t total = 0;
    for (const TileCycles& t : perTile) {
      total += t.cycles;
      s.maxTileCycles = std::max(s.maxTileCycles, t.cycles);
      if (t.cycles > 0) ++s.workingTiles;
    }
    s.meanTileCycles = static_cast<double>(total) / tiles;
    s.meanWorkingTileCycles = s.workingTiles > 0 ? static_cast<double>(total) / s.workingTiles : 0;
    if (s.maxTileCycles > 0) {
      s.balance = s.meanTileCycles / static_cast<double>(s.maxTileCycles);
      s.workingBalance = s.meanWorkingTileCycles / static_cast<double>(s.maxTileCycles);
    }
    std::vector<TileCycles> working;
    for (const TileCycles& t : perTile)
      if (t.cycles > 0) working.push_back(t);
    std::stable_sort(working.begin(), working.end(),
                     [](const TileCycles& a, const TileCycles& b) { return a.cycles > b.cycles; });
    const size_t listed = std::min(top, working.size());
    s.busiestTiles.assign(working.begin(), working.begin() + static_cast<std::ptrdiff_t>(listed));
    std::stable_sort(working.begin(), working.end(),
                     [](const TileCycles& a, const TileCycles& b) { return a.cycles < b.cycles; });
    s.idlestTiles.assign(working.begin(), working.begin() + static_cast<std::ptrdiff_t>(listed));
  }

  const uint32_t limit = trace.info.bytesPerTile;
  std::vector<TileHeadroom> memory;
  int64_t headroomTotal = 0;
  for (const TileMemoryRow& row : trace.memory) {
    const TileHeadroom h = headroomOf(row, limit);
    headroomTotal += h.headroom;
    s.memoryBytes += row.peak;
    if (row.peak > 0) ++s.tilesUsingMemory;
    memory.push_back(h);
  }
  std::stable_sort(memory.begin(), memory.end(),
                   [](const TileHeadroom& a, const TileHeadroom& b) { return a.headroom < b.headroom; });
  if (!memory.empty()) {
    s.minHeadroom = memory.front();
    s.meanHeadroom = static_cast<double>(headroomTotal) / static_cast<double>(memory.size());
  }
  for (const TileHeadroom& h : memory) {
    if (s.fullestTiles.size() == top || h.peak == 0) break;
    s.fullestTiles.push_back(h);
  }
  if (!s.busiestTiles.empty() && s.busiestTiles.front().tile < trace.memory.size())
    s.busiestTileMemory = headroomOf(trace.memory[s.busiestTiles.front().tile], limit);
  return s;
}

std::string summaryText(const TraceSummary& s, const std::string& path) {
  const TraceInfo& info = s.info;
  const double clock = info.clockHz;
  std::ostringstream out;
  out << "trace: " << path << " (schema " << info.schemaVersion << ", written by ipusim "
      << info.ipusimVersion << ")\n"
      << "executable: " << info.executable << " on " << info.target << ": " << info.tiles
      << " tiles, " << info.bytesPerTile << " bytes per tile, " << fixed(clock / 1e9, 3) << " GHz\n"
      << "runs: " << s.runs.size() << ", steps: " << s.steps << ", requests: " << s.requests << "\n";
  if (!s.runs.empty()) {
    out << "  " << pad("run", 5) << pad("index", 7) << pad("load cycles", 14) << pad("exec cycles", 14)
        << pad("exec", 14) << "\n";
    for (size_t i = 0; i < s.runs.size() && i < kRunsListed; ++i) {
      const RunRow& r = s.runs[i];
      out << "  " << pad(std::to_string(r.run), 5)
          << pad(r.index < 0 ? std::string("-") : std::to_string(r.index), 7)
          << pad(std::to_string(r.loadCycles), 14) << pad(std::to_string(r.execCycles), 14)
          << pad(duration(micros(r.execCycles, clock)), 14) << "\n";
    }
    if (s.runs.size() > kRunsListed)
      out << "  ... " << s.runs.size() - kRunsListed << " more (--json lists every run)\n";
  }

  out << "\ncycles by kind (" << s.stepCycles << " cycles in all steps, "
      << duration(micros(s.stepCycles, clock)) << "):\n";
  for (const KindTotal& k : s.kinds)
    out << "  " << pad(std::string(stepKindName(k.kind)), 9, false) << pad(std::to_string(k.steps), 7)
        << " steps " << pad(std::to_string(k.cycles), 12) << " cycles " << pad(percent(k.share), 7)
        << "\n";

  out << "\ntop " << s.topSteps.size() << " steps by cycles:\n";
  if (!s.topSteps.empty()) {
    out << "  " << pad("run", 5) << pad("step", 6) << "  " << pad("kind", 9, false)
        << pad("cycles", 10) << pad("share", 8) << "  name\n";
    for (const TopStep& t : s.topSteps)
      out << "  " << pad(std::to_string(t.run), 5) << pad(std::to_string(t.step), 6) << "  "
          << pad(std::string(stepKindName(t.kind)), 9, false) << pad(std::to_string(t.cycles), 10)
          << pad(percent(t.share), 8) << "  " << t.name << "\n";
  }

  out << "\ntiles:\n";
  if (s.computeSteps == 0) {
    out << "  no compute steps in this trace\n";
  } else if (!s.tileDetail) {
    out << "  recorded without per-tile detail\n";
  } else {
    out << "  compute cycles summed over " << s.computeSteps << " compute steps; " << s.workingTiles
        << " of " << info.tiles << " tiles compute\n"
        << "  busiest: " << tileList(s.busiestTiles) << "\n"
        << "  idlest of the working tiles: " << tileList(s.idlestTiles) << "\n"
        << "  balance (mean/max): " << fixed(s.balance, 4) << " over all " << info.tiles
        << " tiles, " << fixed(s.workingBalance, 4) << " over the " << s.workingTiles
        << " working tiles (1 = even)\n";
  }

  out << "\nmemory (" << info.bytesPerTile << " bytes per tile):\n"
      << "  " << s.tilesUsingMemory << (s.tilesUsingMemory == 1 ? " tile holds " : " tiles hold ")
      << s.memoryBytes << " bytes in all; mean headroom " << fixed(s.meanHeadroom, 1)
      << " bytes per tile\n";
  const auto describe = [&](const TileHeadroom& h) {
    const double free = info.bytesPerTile > 0 ? static_cast<double>(h.headroom) / info.bytesPerTile : 0;
    return "tile " + std::to_string(h.tile) + ": " + std::to_string(h.peak) + " bytes used, " +
           std::to_string(h.headroom) + " headroom (" + percent(free) + " free)";
  };
  out << "  least headroom: " << describe(s.minHeadroom) << "\n";
  if (s.busiestTileMemory) out << "  busiest compute " << describe(*s.busiestTileMemory) << "\n";
  if (!s.fullestTiles.empty()) {
    out << "  fullest tiles:\n  " << pad("tile", 6) << pad("used", 10) << pad("headroom", 10) << "\n";
    for (const TileHeadroom& h : s.fullestTiles)
      out << "  " << pad(std::to_string(h.tile), 6) << pad(std::to_string(h.peak), 10)
          << pad(std::to_string(h.headroom), 10) << "\n";
  }
  return out.str();
}

std::string summaryJson(const TraceSummary& s, const std::string& path) {
  const TraceInfo& info = s.info;
  const double clock = info.clockHz;
  json::Writer w;
  w.beginObject()
      .field("trace", path)
      .field("schema_version", info.schemaVersion)
      .field("ipusim_version", info.ipusimVersion)
      .field("executable", info.executable)
      .field("target", info.target)
      .field("clock_hz", clock)
      .field("tiles", info.tiles)
      .field("bytes_per_tile", info.bytesPerTile)
      .field("steps", s.steps)
      .field("requests", s.requests)
      .field("cycles", s.stepCycles)
      .field("us", micros(s.stepCycles, clock));
  w.key("runs").beginArray();
  for (const RunRow& r : s.runs) {
    w.beginObject().field("run", r.run).key("index");
    if (r.index < 0)
      w.null();
    else
      w.value(r.index);
    w.field("load_cycles", r.loadCycles)
        .field("exec_cycles", r.execCycles)
        .field("exec_us", micros(r.execCycles, clock))
        .field("host_ns", r.hostNs)
        .endObject();
  }
  w.endArray();

  w.key("kinds").beginObject();
  for (const KindTotal& k : s.kinds)
    w.key(stepKindName(k.kind))
        .beginObject()
        .field("steps", k.steps)
        .field("cycles", k.cycles)
        .field("us", micros(k.cycles, clock))
        .field("share", k.share)
        .endObject();
  w.endObject();

  w.key("top_steps").beginArray();
  for (const TopStep& t : s.topSteps)
    w.beginObject()
        .field("run", t.run)
        .field("step", t.step)
        .field("kind", stepKindName(t.kind))
        .field("name", t.name)
        .field("cycles", t.cycles)
        .field("us", micros(t.cycles, clock))
        .field("share", t.share)
        .endObject();
  w.endArray();

  const auto tileArray = [&](const char* name, const std::vector<TileCycles>& tiles) {
    w.key(name).beginArray();
    for (const TileCycles& t : tiles) w.beginObject().field("tile", t.tile).field("cycles", t.cycles).endObject();
    w.endArray();
  };
  w.key("tiles");
  if (!s.tileDetail) {
    w.null();
  } else {
    w.beginObject()
        .field("compute_steps", s.computeSteps)
        .field("working_tiles", s.workingTiles)
        .field("max_cycles", s.maxTileCycles)
        .field("mean_cycles", s.meanTileCycles)
        .field("mean_working_cycles", s.meanWorkingTileCycles)
        .field("balance", s.balance)
        .field("working_balance", s.workingBalance);
    tileArray("busiest", s.busiestTiles);
    tileArray("idlest", s.idlestTiles);
    w.endObject();
  }

  const auto headroom = [&](const TileHeadroom& h) {
    w.beginObject().field("tile", h.tile).field("peak", h.peak).field("headroom", h.headroom).endObject();
  };
  w.key("memory")
      .beginObject()
      .field("tiles_used", s.tilesUsingMemory)
      .field("bytes", s.memoryBytes)
      .field("mean_headroom", s.meanHeadroom);
  w.key("min_headroom");
  headroom(s.minHeadroom);
  w.key("busiest_tile");
  if (s.busiestTileMemory)
    headroom(*s.busiestTileMemory);
  else
    w.null();
  w.key("fullest").beginArray();
  for (const TileHeadroom& h : s.fullestTiles) headroom(h);
  w.endArray();
  w.endObject();

  w.endObject();
  return w.str();
}

}  // namespace ipusim
