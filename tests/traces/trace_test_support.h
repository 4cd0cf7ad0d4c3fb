// Shared by the trace tests: a work folder, a trace with known values in every table, a
// trace of a real run of the seed executable, and a shell runner for the Python scripts.
#pragma once
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "compiler/compiler.h"
#include "compiler/fusion_config.h"
#include "sim/runtime/model_runner.h"
#include "traces/trace_recorder.h"
#include "traces/trace_schema.h"

namespace trace_test {

namespace fs = std::filesystem;
using namespace ipusim;

// A fresh folder per test binary run, in the build tree.
inline const fs::path& workDir() {
  static const fs::path dir = [] {
    fs::path d = fs::path(IPUSIM_BINARY_DIR) / "tests" / "traces-work";
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line in the work folder, capturing stdout and stderr.
inline Result shell(const std::string& commandLine) {
  const fs::path out = workDir() / "last.stdout";
  const fs::path err = workDir() / "last.stderr";
  const std::string full = "cd " + quote(workDir().string()) + " && " + commandLine + " >" +
                           quote(out.string()) + " 2>" + quote(err.string()) + " </dev/null";
  const int status = std::system(full.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = readText(out);
  r.err = readText(err);
  return r;
}

inline std::string script(const std::string& name) {
  return quote(std::string(IPUSIM_SOURCE_DIR) + "/scripts/analysis/" + name);
}

// Debian's Python, with h5py, numpy and matplotlib.
inline Result python(const std::string& args) { return shell("/usr/bin/python3 " + args); }

inline size_t lineCount(const std::string& text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  return lines + (!text.empty() && text.back() != '\n');
}

// A small trace with known values in every dataset: 4 tiles, two runs (the first starting
// with its load), compute and exchange detail, memory, and requests of both strategies.
inline Trace knownTrace() {
  Trace t;
  t.info = TraceInfo{trace_schema::kVersion, "9.8.7", "tests/known.popef", "ipu21", 1.5e9, 4, 1000};
  // Run 0: load (1000 cycles), stream in, compute, sync, exchange, sync, stream out.
  t.steps = {
      {0, 0, StepKind::Load, "load", 0, 1000, 4096},
      {0, 1, StepKind::Stream, "graph0/stream0", 1000, 200, 8},
      {0, 2, StepKind::Compute, "add", 1200, 50, 0},
      {0, 3, StepKind::Sync, "add", 1250, 90, 0},
      {0, 4, StepKind::Exchange, "concat", 1340, 104, 16},
      {0, 5, StepKind::Sync, "concat", 1444, 90, 0},
      {0, 6, StepKind::Stream, "graph0/O", 1534, 210, 8},
      // Run 1: switch, compute, sync.
      {1, 0, StepKind::Switch, "index", 0, 191, 1},
      {1, 1, StepKind::Compute, "relu \xce\xbb", 191, 40, 0},  // UTF-8 survives
      {1, 2, StepKind::Sync, "relu \xce\xbb", 231, 90, 0},
  };
  t.computeCycles = {50, 30, 0, 0,  // step "add": tiles 0..3
                     0, 40, 40, 7};  // step "relu"
  t.exchangeBytes = {16, 0, 0, 8, 0, 8, 0, 0};  // (sent, received) of tiles 0..3
  t.memory = {{0, 100, 20, 8, 64, 192}, {1, 100, 24, 0, 32, 156}, {2, 0, 0, 0, 0, 0},
              {3, 60, 4, 0, 900, 964}};
  t.runs = {{0, 0, 1000, 744, 123456}, {1, 1, 0, 321, 7890}};
  // Latencies 1..5 us (fused) and 10..50 us (separate), each finish - arrival.
  t.requests = {
      {0, 0, "fused", 0.0, 0.0, 1.0, 1.0, false},
      {1, 1, "fused", 1.0, 1.0, 3.0, 2.0, true},
      {2, 0, "fused", 2.0, 3.0, 5.0, 3.0, true},
      {3, 1, "fused", 3.0, 5.0, 7.0, 4.0, true},
      {4, 1, "fused", 4.0, 7.0, 9.0, 5.0, false},
      {5, 0, "separate", 0.0, 0.0, 10.0, 10.0, false},
      {6, 1, "separate", 1.0, 10.0, 21.0, 20.0, true},
      {7, 0, "separate", 2.0, 21.0, 32.0, 30.0, true},
      {8, 1, "separate", 3.0, 32.0, 43.0, 40.0, true},
      {9, 0, "separate", 4.0, 43.0, 54.0, 50.0, true},
  };
  return t;
}

// The seed pair of DESIGN.md fused, compiled once per test binary.
inline std::shared_ptr<const Executable> seedExecutable() {
  static const auto exe = std::make_shared<const Executable>(
      fuseModels(loadFusionConfig(std::string(IPUSIM_TEST_MODELS) + "/config.yaml").models));
  return exe;
}

// Inputs of the right dtype and shape for a subgraph; the values do not matter to timing.
inline std::map<std::string, HostTensor> inputsFor(const ModelRunner& runner, uint32_t index) {
  std::map<std::string, HostTensor> inputs;
  for (const AnchorInfo& in : runner.inputsOf(index)) {
    HostTensor t{in.dtype, in.shape, {}};
    t.data.assign(static_cast<size_t>(elementCount(in.shape)) * dtypeSize(in.dtype), 0);
    inputs.emplace(in.name, std::move(t));
  }
  return inputs;
}

struct SeedRun {
  Trace trace;
  std::vector<uint64_t> execCycles;  // what ModelRunner reported, per run
  uint64_t loadCycles = 0;
};

// Runs index 0, index 1, index 0 of the seed executable with a recorder attached.
inline const SeedRun& seedRun() {
  static const SeedRun run = [] {
    SeedRun r;
    const auto exe = seedExecutable();
    ModelRunner runner(exe, RuntimeConfig{2});
    TraceRecorder recorder(exe->target.tiles);
    runner.setObserver(&recorder);
    r.loadCycles = runner.loadCycles();
    for (uint32_t index : {0u, 1u, 0u}) {
      recorder.beginRun();
      const RunResult result = runner.execute(index, inputsFor(runner, index));
      r.execCycles.push_back(result.execCycles);
      recorder.endRun(result.index, r.execCycles.size() == 1 ? r.loadCycles : 0, result.execCycles,
                      1000);
    }
    runner.setObserver(nullptr);
    r.trace = std::move(recorder).finish(traceInfoFor(*exe, "seed.popef"), tileMemoryRows(*exe));
    return r;
  }();
  return run;
}

}  // namespace trace_test
