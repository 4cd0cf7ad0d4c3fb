// The trace commands of the `ipusim` CLI: `run --trace`, `trace summary [--json]`,
// `trace export-perfetto`, and their errors, on the seed executable.
#include <doctest/doctest.h>

#include "tests/traces/trace_test_support.h"
#include "traces/trace_reader.h"

using namespace trace_test;

namespace {

Result runCli(const std::string& args) { return shell(quote(IPUSIM_CLI) + " " + args); }

// The seed pair fused by the CLI into the work folder, once per test binary.
const std::string& seedPopef() {
  static const std::string path = [] {
    const fs::path models = workDir() / "cli-models";
    fs::remove_all(models);
    fs::copy(IPUSIM_TEST_MODELS, models, fs::copy_options::recursive);
    const Result r = runCli("fuse --config " + quote((models / "config.yaml").string()));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return (models / "executable.popef").string();
  }();
  return path;
}

size_t countOf(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("ipusim run --trace writes a trace whose runs are the iterations") {
  const fs::path trace = workDir() / "cli-run.h5";
  const fs::path json = workDir() / "cli-run.json";
  const Result r = runCli("run " + quote(seedPopef()) + " --index 0 -n 3 --trace " +
                          quote(trace.string()) + " --json " + quote(json.string()));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.err.empty());
  CHECK(r.out.find("trace: " + trace.string() + " (21 steps; `ipusim trace summary ") !=
        std::string::npos);

  const Trace t = readTrace(trace.string());
  CHECK(t.info.executable == seedPopef());
  CHECK(t.info.target == "ipu21");
  REQUIRE(t.runs.size() == 3);
  CHECK(t.steps.size() == 21);
  CHECK(t.countSteps(StepKind::Compute) == 3);
  CHECK(t.computeCycles.size() == 3 * 1472);
  // The same figures the run reports in its JSON.
  const Result j = python(
      "-c " + quote("import json, sys\n"
                    "r = json.load(open(sys.argv[1]))\n"
                    "print(r['trace'], r['exec_cycles'], r['load_cycles'])\n") +
      " " + quote(json.string()));
  REQUIRE(j.code == 0);
  const std::string expected = trace.string() + " " + std::to_string(t.runs[0].execCycles) + " " +
                               std::to_string(t.runs[0].loadCycles) + "\n";
  CHECK(j.out == expected);
  for (const RunRow& run : t.runs) {
    CHECK(run.index == 0);
    CHECK(run.execCycles == t.runs[0].execCycles);
    CHECK(run.hostNs > 0);
  }
  CHECK(t.runs[0].loadCycles > 0);
  CHECK(t.runs[1].loadCycles == 0);  // one load for all iterations
  CHECK(t.memory == tileMemoryRows(*seedExecutable()));
}

TEST_CASE("ipusim trace summary prints the report and --json the figures") {
  const fs::path trace = workDir() / "cli-summary.h5";
  REQUIRE(runCli("run " + quote(seedPopef()) + " --index 0 --trace " + quote(trace.string())).code == 0);
  const Trace t = readTrace(trace.string());

  const Result text = runCli("trace summary " + quote(trace.string()) + " --top 3");
  REQUIRE_MESSAGE(text.code == 0, text.err);
  CHECK(text.out.find("trace: " + trace.string() + " (schema 1") == 0);
  CHECK(text.out.find("cycles by kind (" + std::to_string(t.runs[0].execCycles) + " cycles in all steps") !=
        std::string::npos);
  CHECK(text.out.find("top 3 steps by cycles:") != std::string::npos);
  CHECK(text.out.find("balance (mean/max):") != std::string::npos);
  CHECK(text.out.find("least headroom: tile ") != std::string::npos);

  const fs::path json = workDir() / "cli-summary.json";
  const Result j = runCli("trace summary " + quote(trace.string()) + " --json " + quote(json.string()));
  REQUIRE(j.code == 0);
  CHECK(j.out.find("cycles by kind") != std::string::npos);  // the text too, with --json FILE
  const Result parsed = python(
      "-c " + quote("import json, sys\n"
                    "s = json.load(open(sys.argv[1]))\n"
                    "kinds = sum(k['cycles'] for k in s['kinds'].values())\n"
                    "print(s['cycles'], kinds, s['runs'][0]['exec_cycles'], len(s['top_steps']),\n"
                    "      s['tiles']['working_tiles'] > 0)\n") +
      " " + quote(json.string()));
  REQUIRE_MESSAGE(parsed.code == 0, parsed.err);
  const std::string exec = std::to_string(t.runs[0].execCycles);
  CHECK(parsed.out == exec + " " + exec + " " + exec + " 7 True\n");  // all 7 steps: fewer than 10

  // --json - writes only the JSON to standard output.
  const Result stdoutJson = runCli("trace summary " + quote(trace.string()) + " --json -");
  REQUIRE(stdoutJson.code == 0);
  CHECK(stdoutJson.out.rfind("{", 0) == 0);
}

TEST_CASE("ipusim trace export-perfetto writes one slice per step") {
  const fs::path trace = workDir() / "cli-perfetto.h5";
  REQUIRE(runCli("run " + quote(seedPopef()) + " --index 1 -n 2 --trace " + quote(trace.string())).code == 0);
  const Trace t = readTrace(trace.string());
  const fs::path json = workDir() / "cli-perfetto.json";
  const Result r = runCli("trace export-perfetto " + quote(trace.string()) + " -o " + quote(json.string()));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out == "wrote " + json.string() + ": " + std::to_string(t.steps.size()) +
                     " steps, 2 runs, 0 requests; open it in https://ui.perfetto.dev\n");
  const Result parsed = python(
      "-c " + quote("import json, sys\n"
                    "events = json.load(open(sys.argv[1]))['traceEvents']\n"
                    "kinds = {'compute', 'exchange', 'sync', 'stream', 'switch', 'load'}\n"
                    "print(sum(1 for e in events if e['ph'] == 'X' and e['cat'] in kinds),\n"
                    "      sum(1 for e in events if e['ph'] == 'X' and e['cat'] == 'run'))\n") +
      " " + quote(json.string()));
  REQUIRE_MESSAGE(parsed.code == 0, parsed.err);
  CHECK(parsed.out == std::to_string(t.steps.size()) + " 2\n");
}

TEST_CASE("the trace commands refuse bad input with one line") {
  const std::string missing = (workDir() / "cli-missing.h5").string();
  const std::string text = (workDir() / "cli-text.h5").string();
  writeText(text, "hello");
  for (const std::string& action : {std::string("summary"), std::string("export-perfetto")}) {
    const std::string out = action == "summary" ? "" : " -o " + quote((workDir() / "x.json").string());
    Result r = runCli("trace " + action + " " + quote(missing) + out);
    CHECK(r.code == 1);
    CHECK(r.err == "ipusim trace: error: " + missing + ": no such file\n");
    r = runCli("trace " + action + " " + quote(text) + out);
    CHECK(r.code == 1);
    CHECK(r.err == "ipusim trace: error: " + text + ": not an HDF5 file, so not an ipusim trace\n");
    // An HDF5 file that is not a trace: a .popef is not HDF5 at all, so make one with h5py.
    const std::string other = (workDir() / "cli-other.h5").string();
    REQUIRE(python("-c " + quote("import h5py, sys; h5py.File(sys.argv[1], 'w').create_dataset('x', data=[1])") +
                   " " + quote(other)).code == 0);
    r = runCli("trace " + action + " " + quote(other) + out);
    CHECK(r.code == 1);
    CHECK(r.err == "ipusim trace: error: " + other +
                       ": an HDF5 file, but not an ipusim trace (no root attribute format = \"ipusim-trace\")\n");
    CHECK(countOf(r.err, "\n") == 1);
  }
  CHECK_FALSE(fs::exists(workDir() / "x.json"));

  Result r = runCli("trace");
  CHECK(r.code == 2);
  CHECK(r.err == "ipusim trace: error: which action? summary or export-perfetto (see ipusim trace --help)\n");
  r = runCli("trace frobnicate x.h5");
  CHECK(r.code == 2);
  CHECK(r.err.find("unknown action 'frobnicate'") != std::string::npos);
  r = runCli("trace summary x.h5 --top 0");
  CHECK(r.code == 2);
  CHECK(r.err == "ipusim trace: error: --top must be between 1 and 100000\n");
  r = runCli("trace --help");
  CHECK(r.code == 0);
  CHECK(r.out.find("export-perfetto") != std::string::npos);
  r = runCli("help trace");
  CHECK(r.code == 0);
}

TEST_CASE("ipusim run --trace into a missing folder fails before running") {
  const std::string path = (workDir() / "no-such-folder" / "t.h5").string();
  const Result r = runCli("run " + quote(seedPopef()) + " --index 0 --trace " + quote(path));
  CHECK(r.code == 1);
  CHECK(r.out.empty());  // nothing ran
  CHECK(r.err == "ipusim run: error: cannot write trace " + path + ": folder " +
                     (workDir() / "no-such-folder").string() + " does not exist\n");
}

TEST_CASE("the scripts draw a trace written by ipusim run") {
  const fs::path trace = workDir() / "cli-scripts.h5";
  REQUIRE(runCli("run " + quote(seedPopef()) + " --index 0 --trace " + quote(trace.string())).code == 0);
  for (const char* name : {"timeline.py", "tiles.py"}) {
    const fs::path png = workDir() / (std::string("cli-") + name + ".png");
    const Result r = python(script(name) + " " + quote(trace.string()) + " -o " + quote(png.string()));
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(fs::file_size(png) > 1000);
  }
}
