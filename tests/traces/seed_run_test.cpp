// A trace of a real run of the seed executable: the sums hold, the per-tile figures agree
// with the steps, and the file reads back equal.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "tests/traces/trace_test_support.h"
#include "traces/trace_reader.h"
#include "traces/trace_summary.h"
#include "traces/trace_writer.h"

using namespace trace_test;

TEST_CASE("the steps of each run add up to the cycles ModelRunner reported") {
  const SeedRun& seed = seedRun();
  const Trace& trace = seed.trace;
  REQUIRE(trace.runs.size() == 3);
  for (uint32_t r = 0; r < 3; ++r) {
    uint64_t sum = 0;
    size_t steps = 0;
    for (const StepRow& s : trace.steps) {
      if (s.run != r) continue;
      CHECK(s.kind != StepKind::Load);  // ModelRunner loads before an observer can attach
      sum += s.cycles;
      ++steps;
    }
    CAPTURE(r);
    CHECK(steps > 0);
    CHECK(sum == seed.execCycles[r]);
    CHECK(trace.runs[r].execCycles == seed.execCycles[r]);
  }
  CHECK(trace.runs[0].index == 0);
  CHECK(trace.runs[1].index == 1);
  CHECK(trace.runs[2].index == 0);
  CHECK(trace.runs[0].loadCycles == seed.loadCycles);
  CHECK(seed.loadCycles > 0);
  // The machine is deterministic: the same subgraph takes the same cycles every time.
  CHECK(seed.execCycles[0] == seed.execCycles[2]);
  // Each fused run switches on the index first.
  CHECK(std::count_if(trace.steps.begin(), trace.steps.end(),
                      [](const StepRow& s) { return s.kind == StepKind::Switch; }) == 3);
}

TEST_CASE("per-tile compute cycles never exceed their step, and the slowest tile is the step") {
  const Trace& trace = seedRun().trace;
  const uint32_t tiles = trace.info.tiles;
  CHECK(tiles == 1472);
  const size_t computeSteps = trace.countSteps(StepKind::Compute);
  REQUIRE(computeSteps > 0);
  REQUIRE(trace.computeCycles.size() == computeSteps * tiles);
  size_t row = 0;
  for (const StepRow& s : trace.steps) {
    if (s.kind != StepKind::Compute) continue;
    const uint64_t* cycles = trace.computeCycles.data() + row * tiles;
    const uint64_t slowest = *std::max_element(cycles, cycles + tiles);
    CAPTURE(s.name);
    for (uint32_t t = 0; t < tiles; ++t) CHECK(cycles[t] <= s.cycles);
    CHECK(slowest == s.cycles);  // bulk-synchronous: the step lasts as long as its slowest tile
    ++row;
  }
}

TEST_CASE("per-tile exchange bytes add up to the step's bytes") {
  const Trace& trace = seedRun().trace;
  const uint32_t tiles = trace.info.tiles;
  const size_t exchangeSteps = trace.countSteps(StepKind::Exchange);
  REQUIRE(trace.exchangeBytes.size() == exchangeSteps * tiles * 2);
  size_t row = 0;
  for (const StepRow& s : trace.steps) {
    if (s.kind != StepKind::Exchange) continue;
    uint64_t sent = 0, received = 0;
    for (uint32_t t = 0; t < tiles; ++t) {
      sent += trace.exchangeBytes[(row * tiles + t) * 2];
      received += trace.exchangeBytes[(row * tiles + t) * 2 + 1];
    }
    CHECK(sent == s.bytes);
    CHECK(received == s.bytes);
    ++row;
  }
}

TEST_CASE("the memory table is the executable's, one row per tile") {
  const auto exe = seedExecutable();
  const Trace& trace = seedRun().trace;
  REQUIRE(trace.memory.size() == exe->target.tiles);
  uint64_t total = 0;
  for (const TileMemoryRow& m : trace.memory) total += m.peak;
  uint64_t expected = 0;
  for (const TileMemoryUsage& u : exe->tileMemory) {
    const TileMemoryRow& m = trace.memory[u.tile];
    CHECK(m.code == u.code);
    CHECK(m.vertexState == u.vertexState);
    CHECK(m.constants == u.constants);
    CHECK(m.variables == u.variables);
    CHECK(m.peak == u.total());
    expected += u.total();
  }
  CHECK(total == expected);
  CHECK(total > 0);
}

TEST_CASE("the seed trace writes and reads back equal") {
  const Trace& trace = seedRun().trace;
  const std::string path = (workDir() / "seed.h5").string();
  writeTrace(path, trace);
  const Trace read = readTrace(path);
  CHECK(read == trace);
  CHECK(read.info.target == "ipu21");
  CHECK(read.info.executable == "seed.popef");

  // The large datasets are chunked and gzip-compressed (checked from Python's side too).
  const Result r = python(
      "-c " + quote("import h5py, sys\n"
                    "f = h5py.File(sys.argv[1], 'r')\n"
                    "for n in ('steps', 'tiles/compute_cycles', 'tiles/exchange_bytes'):\n"
                    "    d = f[n]\n"
                    "    if d.shape[0]: print(n, d.compression, d.chunks is not None)\n") +
      " " + quote(path));
  CHECK(r.code == 0);
  CHECK_MESSAGE(r.out.find("steps gzip True") != std::string::npos, (r.out + r.err));
  CHECK_MESSAGE(r.out.find("tiles/compute_cycles gzip True") != std::string::npos, (r.out + r.err));
}

TEST_CASE("the summary of the seed trace accounts for every cycle") {
  const Trace& trace = seedRun().trace;
  const TraceSummary s = summarizeTrace(trace, 5);
  uint64_t exec = 0;
  for (const RunRow& r : trace.runs) exec += r.execCycles;
  CHECK(s.stepCycles == exec);
  uint64_t byKind = 0;
  double shares = 0;
  size_t steps = 0;
  for (const KindTotal& k : s.kinds) {
    byKind += k.cycles;
    shares += k.share;
    steps += k.steps;
  }
  CHECK(byKind == exec);
  CHECK(shares == doctest::Approx(1.0));
  CHECK(steps == trace.steps.size());
  REQUIRE(s.topSteps.size() == 5);
  for (size_t i = 1; i < s.topSteps.size(); ++i) CHECK(s.topSteps[i - 1].cycles >= s.topSteps[i].cycles);
  uint64_t longest = 0;
  for (const StepRow& step : trace.steps) longest = std::max(longest, step.cycles);
  CHECK(s.topSteps[0].cycles == longest);

  REQUIRE(s.tileDetail);
  CHECK(s.workingTiles > 0);
  REQUIRE_FALSE(s.busiestTiles.empty());
  CHECK(s.busiestTiles[0].cycles == s.maxTileCycles);
  CHECK(s.balance == doctest::Approx(s.meanTileCycles / static_cast<double>(s.maxTileCycles)));
  CHECK(s.balance <= s.workingBalance);
  CHECK(s.workingBalance <= 1.0);
  REQUIRE(s.busiestTileMemory.has_value());
  CHECK(s.busiestTileMemory->tile == s.busiestTiles[0].tile);
  CHECK(s.minHeadroom.headroom ==
        int64_t{trace.info.bytesPerTile} -
            int64_t{std::max_element(trace.memory.begin(), trace.memory.end(),
                                     [](const TileMemoryRow& a, const TileMemoryRow& b) {
                                       return a.peak < b.peak;
                                     })->peak});
}
