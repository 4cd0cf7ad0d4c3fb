// The writer and the reader agree on every dataset; the writer checks what it writes and
// never leaves a half file behind.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "tests/traces/trace_test_support.h"
#include "traces/trace_reader.h"
#include "traces/trace_recorder.h"
#include "traces/trace_writer.h"

using namespace trace_test;

namespace {

std::vector<std::string> folderEntries(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

fs::path freshFolder(const std::string& name) {
  const fs::path folder = workDir() / name;
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

}  // namespace

TEST_CASE("every dataset of a known trace reads back equal") {
  const Trace written = knownTrace();
  const fs::path folder = freshFolder("roundtrip");
  const std::string path = (folder / "known.h5").string();
  writeTrace(path, written);

  const Trace read = readTrace(path);
  CHECK(read.info == written.info);
  CHECK(read.info.clockHz == 1.5e9);
  CHECK(read.info.ipusimVersion == "9.8.7");
  REQUIRE(read.steps.size() == 10);
  CHECK(read.steps == written.steps);
  CHECK(read.steps[8].name == "relu \xce\xbb");
  CHECK(read.steps[0].kind == StepKind::Load);
  CHECK(read.steps[7].kind == StepKind::Switch);
  CHECK(read.computeCycles == std::vector<uint64_t>{50, 30, 0, 0, 0, 40, 40, 7});
  CHECK(read.exchangeBytes == std::vector<uint64_t>{16, 0, 0, 8, 0, 8, 0, 0});
  CHECK(read.memory == written.memory);
  CHECK(read.memory[3].peak == 964);
  CHECK(read.runs == written.runs);
  CHECK(read.runs[0].index == 0);
  CHECK(read.runs[1].hostNs == 7890);
  CHECK(read.requests == written.requests);
  CHECK(read.requests[6].strategy == "separate");
  CHECK(read.requests[6].latencyUs == 20.0);
  CHECK(read.requests[1].switched);
  CHECK(read == written);
  CHECK(readTraceInfo(path) == written.info);

  // Only the final file is left: the temporary was renamed.
  CHECK(folderEntries(folder) == std::vector<std::string>{"known.h5"});
}

TEST_CASE("an empty trace (no steps, runs or requests) round-trips") {
  Trace empty;
  empty.info = TraceInfo{trace_schema::kVersion, "1", "none", "ipu2", 1.325e9, 3, 64};
  empty.memory = {{0, 0, 0, 0, 0, 0}, {1, 1, 2, 3, 4, 10}, {2, 0, 0, 0, 0, 0}};
  const std::string path = (freshFolder("empty") / "empty.h5").string();
  writeTrace(path, empty);
  CHECK(readTrace(path) == empty);
}

TEST_CASE("a trace without tile detail round-trips with empty per-tile datasets") {
  Trace trace = knownTrace();
  trace.computeCycles.clear();
  trace.exchangeBytes.clear();
  const std::string path = (freshFolder("nodetail") / "nodetail.h5").string();
  writeTrace(path, trace);
  const Trace read = readTrace(path);
  CHECK(read.computeCycles.empty());
  CHECK(read.exchangeBytes.empty());
  CHECK_FALSE(read.hasTileDetail());
  CHECK(read == trace);
}

TEST_CASE("rewriting replaces the file whole") {
  const fs::path folder = freshFolder("rewrite");
  const std::string path = (folder / "t.h5").string();
  Trace first = knownTrace();
  writeTrace(path, first);
  Trace second = knownTrace();
  second.requests.clear();
  second.info.executable = "second.popef";
  writeTrace(path, second);
  CHECK(readTrace(path) == second);
  CHECK(folderEntries(folder) == std::vector<std::string>{"t.h5"});
}

TEST_CASE("the writer refuses inconsistent tables and leaves no file") {
  const fs::path folder = freshFolder("refused");
  const std::string path = (folder / "bad.h5").string();
  auto refuses = [&](const Trace& trace, const std::string& phrase) {
    try {
      writeTrace(path, trace);
      FAIL("writeTrace accepted an inconsistent trace");
    } catch (const TraceError& e) {
      const std::string message = e.what();
      CHECK_MESSAGE(message.find(phrase) != std::string::npos, message);
      CHECK(message.find('\n') == std::string::npos);
    }
    CHECK(folderEntries(folder).empty());
  };

  Trace t = knownTrace();
  t.runs[1].execCycles = 320;  // its steps add up to 321
  refuses(t, "the steps of run 1 add up to 321 cycles, but /runs gives 320");

  t = knownTrace();
  t.runs[0].loadCycles = 999;  // run 0 records its load: 1000 + 744
  refuses(t, "the steps of run 0 add up to 1744 cycles, but /runs gives 1743");

  t = knownTrace();
  t.computeCycles.pop_back();
  refuses(t, "/tiles/compute_cycles holds 7 values, expected 2 compute steps x 4 tiles");

  t = knownTrace();
  t.exchangeBytes.push_back(1);
  refuses(t, "/tiles/exchange_bytes holds 9 values");

  t = knownTrace();
  t.memory[1].peak = 1;
  refuses(t, "peak 1 is not code + vertex_state + constants + variables (156)");

  t = knownTrace();
  t.memory.pop_back();
  refuses(t, "/tiles/memory has 3 rows, expected one per tile (4)");

  t = knownTrace();
  t.steps[2].startCycle = 1201;
  refuses(t, "/steps row 2 starts at cycle 1201, expected 1200");

  t = knownTrace();
  t.computeCycles[5] = 41;  // tile 1 of step "relu", which lasts 40
  refuses(t, "/tiles/compute_cycles: tile 1 takes 41 cycles in compute step 'relu \xce\xbb' of run 1, "
             "which lasts 40");

  t = knownTrace();
  t.exchangeBytes[3] = 9;  // tile 1 receives 9 instead of 8
  refuses(t, "exchange step 'concat' of run 0 moves 16 bytes, but its tiles send 16 and receive 17");

  t = knownTrace();
  t.steps[9].run = 2;
  refuses(t, "belongs to run 2, which /runs lacks");
}

TEST_CASE("writing into a folder that does not exist is one clear error") {
  const std::string path = (workDir() / "no-such-folder" / "t.h5").string();
  try {
    writeTrace(path, knownTrace());
    FAIL("expected a TraceError");
  } catch (const TraceError& e) {
    CHECK(std::string(e.what()) == "cannot write trace " + path + ": folder " +
                                       (workDir() / "no-such-folder").string() + " does not exist");
  }
}

TEST_CASE("the recorder numbers runs and steps, and keeps a load in its run") {
  TraceRecorder recorder(2);
  CHECK(recorder.wantsTileDetail());
  const uint64_t tileCycles[2] = {7, 9};
  const uint64_t sent[2] = {4, 0}, received[2] = {0, 4};

  // An engine load reports before anyone opened a run: it opens run 0.
  StepRecord load{StepKind::Load, "load", 0, 500, 64, {}, {}, {}};
  recorder.onStep(load);
  CHECK(recorder.runOpen());
  CHECK(recorder.beginRun() == 0);  // keeps the run the load opened
  recorder.onStep(StepRecord{StepKind::Compute, "cs", 0, 9, 0, tileCycles, {}, {}});
  recorder.onStep(StepRecord{StepKind::Exchange, "ex", 9, 101, 4, {}, sent, received});
  recorder.endRun(std::nullopt, 500, 110, 42);
  CHECK_FALSE(recorder.runOpen());
  CHECK(recorder.beginRun() == 1);
  recorder.onStep(StepRecord{StepKind::Sync, "sync", 0, 90, 0, {}, {}, {}});
  recorder.endRun(3u, 0, 90, 43);
  CHECK_THROWS_AS(recorder.endRun(std::nullopt, 0, 0, 0), TraceError);

  Trace trace = std::move(recorder).finish(
      TraceInfo{trace_schema::kVersion, "v", "e", "ipu21", 1e9, 2, 100},
      {{0, 1, 0, 0, 0, 1}, {1, 0, 0, 0, 0, 0}});
  REQUIRE(trace.steps.size() == 4);
  CHECK(trace.steps[0] == StepRow{0, 0, StepKind::Load, "load", 0, 500, 64});
  // The engine restarted its clock at the run; the trace counts on from the load.
  CHECK(trace.steps[1] == StepRow{0, 1, StepKind::Compute, "cs", 500, 9, 0});
  CHECK(trace.steps[2] == StepRow{0, 2, StepKind::Exchange, "ex", 509, 101, 4});
  CHECK(trace.steps[3] == StepRow{1, 0, StepKind::Sync, "sync", 0, 90, 0});
  CHECK(trace.computeCycles == std::vector<uint64_t>{7, 9});
  CHECK(trace.exchangeBytes == std::vector<uint64_t>{4, 0, 0, 4});
  CHECK(trace.runs == std::vector<RunRow>{{0, -1, 500, 110, 42}, {1, 3, 0, 90, 43}});
  CHECK_NOTHROW(checkTrace(trace));
}

TEST_CASE("a recorder without tile detail keeps steps only") {
  TraceRecorder recorder(2, false);
  CHECK_FALSE(recorder.wantsTileDetail());
  recorder.beginRun();
  recorder.onStep(StepRecord{StepKind::Compute, "cs", 0, 9, 0, {}, {}, {}});
  recorder.endRun(std::nullopt, 0, 9, 1);
  const Trace& trace = recorder.recorded();
  CHECK(trace.steps.size() == 1);
  CHECK(trace.computeCycles.empty());
}

TEST_CASE("a recorder refuses per-tile spans of the wrong width") {
  TraceRecorder recorder(4);
  const uint64_t tileCycles[2] = {1, 2};
  recorder.beginRun();
  CHECK_THROWS_WITH_AS(recorder.onStep(StepRecord{StepKind::Compute, "cs", 0, 2, 0, tileCycles, {}, {}}),
                       "compute step 'cs' reported 2 tile cycles, expected 4", TraceError);
}

TEST_CASE("a refused write leaves the previous file as it was") {
  const fs::path folder = freshFolder("keep");
  const std::string path = (folder / "t.h5").string();
  writeTrace(path, knownTrace());
  Trace bad = knownTrace();
  bad.runs[0].execCycles = 1;
  CHECK_THROWS_AS(writeTrace(path, bad), TraceError);
  CHECK(readTrace(path) == knownTrace());
  CHECK(folderEntries(folder) == std::vector<std::string>{"t.h5"});
}

TEST_CASE("a writer killed mid-write leaves no file under the final name") {
  // A big trace (3000 compute steps x 1472 tiles, 35 MB before compression) takes long
  // enough to write that the kill lands while the temporary file is open.
  Trace big;
  const uint32_t tiles = 1472;
  big.info = TraceInfo{trace_schema::kVersion, "v", "big.popef", "ipu21", 1.5e9, tiles, 638976};
  uint64_t clock = 0;
  for (uint32_t i = 0; i < 3000; ++i) {
    const uint64_t cycles = 100 + i % 17;
    big.steps.push_back({0, i, StepKind::Compute, "cs" + std::to_string(i), clock, cycles, 0});
    for (uint32_t t = 0; t < tiles; ++t) big.computeCycles.push_back((t * 7919u + i) % (cycles + 1));
    clock += cycles;
  }
  big.runs = {{0, -1, 0, clock, 1}};
  big.memory.resize(tiles);
  for (uint32_t t = 0; t < tiles; ++t) big.memory[t].tile = t;

  const fs::path folder = freshFolder("killed");
  const fs::path path = folder / "big.h5";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      writeTrace(path.string(), big);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  // Kill the writer once its temporary file holds some data: in the middle of the write.
  bool sawTemporary = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!sawTemporary && std::chrono::steady_clock::now() < deadline) {
    std::error_code error;
    for (const std::string& name : folderEntries(folder))
      sawTemporary |= name.rfind(".big.h5.tmp-", 0) == 0 &&
                      fs::file_size(folder / name, error) > 256 * 1024;
    if (!sawTemporary) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) {
    CHECK(sawTemporary);
    CHECK_FALSE(fs::exists(path));  // the half-written file never had the final name
  } else {
    // The writer finished first (a very fast machine): then the file must be whole.
    MESSAGE("the writer finished before the kill; checking the file is complete instead");
    CHECK(readTrace(path.string()) == big);
  }
}
