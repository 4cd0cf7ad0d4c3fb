// The summary of a trace with known values, and the Perfetto export: valid JSON with one
// slice per step.
#include <doctest/doctest.h>

#include <charconv>

#include "tests/traces/trace_test_support.h"
#include "traces/perfetto_export.h"
#include "traces/trace_summary.h"

using namespace trace_test;

TEST_CASE("summary of the known trace") {
  const TraceSummary s = summarizeTrace(knownTrace(), 3);
  CHECK(s.steps == 10);
  CHECK(s.requests == 10);
  CHECK(s.stepCycles == 1744 + 321);
  const KindTotal& compute = s.kinds[static_cast<size_t>(StepKind::Compute)];
  CHECK(compute.steps == 2);
  CHECK(compute.cycles == 90);
  CHECK(s.kinds[static_cast<size_t>(StepKind::Sync)].cycles == 270);
  CHECK(s.kinds[static_cast<size_t>(StepKind::Load)].cycles == 1000);
  CHECK(s.kinds[static_cast<size_t>(StepKind::Stream)].cycles == 410);
  CHECK(s.kinds[static_cast<size_t>(StepKind::Exchange)].cycles == 104);
  CHECK(s.kinds[static_cast<size_t>(StepKind::Switch)].cycles == 191);
  CHECK(s.kinds[static_cast<size_t>(StepKind::Load)].share == doctest::Approx(1000.0 / 2065));

  REQUIRE(s.topSteps.size() == 3);
  CHECK(s.topSteps[0].name == "load");
  CHECK(s.topSteps[1].name == "graph0/O");
  CHECK(s.topSteps[1].cycles == 210);
  CHECK(s.topSteps[2].name == "graph0/stream0");

  // Tile cycles over both compute steps: tile 0: 50, tile 1: 70, tile 2: 40, tile 3: 7.
  REQUIRE(s.tileDetail);
  CHECK(s.workingTiles == 4);
  CHECK(s.maxTileCycles == 70);
  CHECK(s.busiestTiles.size() == 3);
  CHECK(s.busiestTiles[0].tile == 1);
  CHECK(s.busiestTiles[1].tile == 0);
  CHECK(s.idlestTiles[0].tile == 3);
  CHECK(s.idlestTiles[0].cycles == 7);
  CHECK(s.meanTileCycles == doctest::Approx(167.0 / 4));
  CHECK(s.balance == doctest::Approx(167.0 / 4 / 70));

  // Memory against 1000 bytes per tile: peaks 192, 156, 0, 964.
  CHECK(s.tilesUsingMemory == 3);
  CHECK(s.memoryBytes == 1312);
  CHECK(s.minHeadroom.tile == 3);
  CHECK(s.minHeadroom.headroom == 36);
  CHECK(s.meanHeadroom == doctest::Approx((4000.0 - 1312) / 4));
  REQUIRE(s.busiestTileMemory.has_value());
  CHECK(s.busiestTileMemory->tile == 1);
  CHECK(s.busiestTileMemory->headroom == 844);
  REQUIRE(s.fullestTiles.size() == 3);
  CHECK(s.fullestTiles[1].tile == 0);

  const std::string text = summaryText(s, "known.h5");
  CHECK(text.find("trace: known.h5 (schema 1, written by ipusim 9.8.7)") == 0);
  CHECK(text.find("load           1 steps         1000 cycles   48.4%") != std::string::npos);
  CHECK(text.find("busiest: tile 1 (70), tile 0 (50), tile 2 (40)") != std::string::npos);
  CHECK(text.find("least headroom: tile 3: 964 bytes used, 36 headroom (3.6% free)") !=
        std::string::npos);

  // The JSON parses and carries the same numbers.
  const fs::path json = workDir() / "summary.json";
  writeText(json, summaryJson(s, "known.h5"));
  const Result r = python(
      "-c " +
      quote("import json, sys\n"
            "s = json.load(open(sys.argv[1]))\n"
            "print(s['cycles'], s['kinds']['load']['cycles'], s['top_steps'][0]['name'],\n"
            "      s['tiles']['busiest'][0]['tile'], s['memory']['min_headroom']['headroom'],\n"
            "      s['runs'][1]['index'], len(s['runs']))\n") +
      " " + quote(json.string()));
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(r.out == "2065 1000 load 1 36 1 2\n");
}

TEST_CASE("summary of a trace without tile detail or steps") {
  Trace t = knownTrace();
  t.computeCycles.clear();
  t.exchangeBytes.clear();
  TraceSummary s = summarizeTrace(t);
  CHECK_FALSE(s.tileDetail);
  CHECK(s.busiestTiles.empty());
  CHECK_FALSE(s.busiestTileMemory.has_value());
  CHECK(summaryText(s, "t.h5").find("recorded without per-tile detail") != std::string::npos);

  Trace empty;
  empty.info = t.info;
  empty.memory = t.memory;
  s = summarizeTrace(empty);
  CHECK(s.stepCycles == 0);
  CHECK(s.topSteps.empty());
  CHECK(summaryText(s, "e.h5").find("no compute steps in this trace") != std::string::npos);
  CHECK_NOTHROW(summaryJson(s, "e.h5"));
}

namespace {

// Counts the Perfetto events of a JSON file with Python's json module: slices per category,
// and checks each slice's ts/dur are numbers with dur >= 0.
const char* kCountSlices =
    "import json, sys, collections\n"
    "doc = json.load(open(sys.argv[1]))\n"
    "events = doc['traceEvents']\n"
    "slices = [e for e in events if e['ph'] == 'X']\n"
    "assert all(isinstance(e['ts'], (int, float)) and e['dur'] >= 0 for e in slices)\n"
    "count = collections.Counter(e['cat'] for e in slices)\n"
    "tracks = sorted(e['args']['name'] for e in events\n"
    "                if e['ph'] == 'M' and e['name'] == 'thread_name')\n"
    "print(' '.join(f'{k}={count[k]}' for k in sorted(count)))\n"
    "print(','.join(tracks))\n";

}  // namespace

TEST_CASE("the Perfetto export of the known trace: one slice per step, run and request") {
  const Trace trace = knownTrace();
  const fs::path path = workDir() / "known.json";
  writeText(path, perfettoJson(trace));
  const Result r = python("-c " + quote(kCountSlices) + " " + quote(path.string()));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out ==
        "compute=2 exchange=1 load=1 request=10 run=2 stream=2 switch=1 sync=3\n"
        "compute,exchange,load,requests: fused,requests: separate,runs,stream,switch,sync\n");

  // Run 1 starts where run 0's steps end (1744 cycles at 1.5 GHz), its compute 191 cycles later.
  const std::string json = perfettoJson(trace);
  const double runStartUs = 1744 / 1.5e9 * 1e6;
  const double computeUs = (1744 + 191) / 1.5e9 * 1e6;
  auto number = [](double v) {
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, result.ptr);
  };
  CHECK(json.find("\"name\":\"run 1 (index 1)\",\"cat\":\"run\",\"ph\":\"X\",\"ts\":" +
                  number(runStartUs)) != std::string::npos);
  CHECK(json.find("\"cat\":\"compute\",\"ph\":\"X\",\"ts\":" + number(computeUs)) != std::string::npos);
}

TEST_CASE("the Perfetto export of the seed run holds one slice per step") {
  const Trace& trace = seedRun().trace;
  const fs::path path = workDir() / "seed.json";
  writeText(path, perfettoJson(trace));
  const Result r = python(
      "-c " +
      quote("import json, sys\n"
            "events = json.load(open(sys.argv[1]))['traceEvents']\n"
            "kinds = {'compute', 'exchange', 'sync', 'stream', 'switch', 'load'}\n"
            "print(sum(1 for e in events if e['ph'] == 'X' and e['cat'] in kinds))\n") +
      " " + quote(path.string()));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out == std::to_string(trace.steps.size()) + "\n");
}
