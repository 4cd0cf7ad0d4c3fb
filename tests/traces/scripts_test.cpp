// The Python scripts of scripts/analysis on real traces: each writes a non-empty PNG, and
// each fails with one clear line on a file that is not a usable trace.
#include <doctest/doctest.h>

#include <H5Cpp.h>

#include "tests/traces/trace_test_support.h"
#include "traces/trace_writer.h"

using namespace trace_test;

namespace {

const std::string& seedTracePath() {
  static const std::string path = [] {
    const std::string p = (workDir() / "scripts-seed.h5").string();
    writeTrace(p, seedRun().trace);
    return p;
  }();
  return path;
}

const std::string& knownTracePath() {
  static const std::string path = [] {
    const std::string p = (workDir() / "scripts-known.h5").string();
    writeTrace(p, knownTrace());
    return p;
  }();
  return path;
}

// A PNG: the 8-byte signature and more than a header's worth of image.
void checkPng(const fs::path& path) {
  REQUIRE_MESSAGE(fs::exists(path), path.string());
  CHECK(fs::file_size(path) > 1000);
  CHECK(readText(path).substr(0, 8) == "\x89PNG\r\n\x1a\n");
}

Result runScript(const std::string& name, const std::string& trace, const fs::path& png,
                 const std::string& extra = "") {
  fs::remove(png);
  return python(script(name) + " " + quote(trace) + " -o " + quote(png.string()) + extra);
}

}  // namespace

TEST_CASE("timeline.py draws the seed run") {
  const fs::path png = workDir() / "timeline.png";
  const Result r = runScript("timeline.py", seedTracePath(), png);
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(r.out == "wrote " + png.string() + "\n");
  checkPng(png);

  const fs::path one = workDir() / "timeline-run1.png";
  CHECK(runScript("timeline.py", seedTracePath(), one, " --run 1").code == 0);
  checkPng(one);
  const Result bad = runScript("timeline.py", seedTracePath(), one, " --run 7");
  CHECK(bad.code == 1);
  CHECK(bad.err == "timeline.py: error: --run 7: the trace has runs 0..2\n");
}

TEST_CASE("tiles.py draws the heat map and memory panels of the seed run") {
  const fs::path png = workDir() / "tiles.png";
  const Result r = runScript("tiles.py", seedTracePath(), png);
  CHECK_MESSAGE(r.code == 0, r.err);
  checkPng(png);
  for (const char* scale : {"linear", "log"}) {
    const fs::path other = workDir() / (std::string("tiles-") + scale + ".png");
    CHECK(runScript("tiles.py", seedTracePath(), other, std::string(" --all-tiles --memory-scale ") + scale).code == 0);
    checkPng(other);
  }
}

TEST_CASE("latency.py reads the known requests: the statistics it prints are the known ones") {
  const fs::path png = workDir() / "latency.png";
  const Result r = runScript("latency.py", knownTracePath(), png);
  CHECK_MESSAGE(r.code == 0, r.err);
  checkPng(png);
  // fused latencies 1..5 us, separate 10..50 us; percentiles interpolate linearly.
  CHECK(r.out ==
        "fused: 5 requests, mean 3.000 us, p50 3.000 us, p90 4.600 us, p99 4.960 us, "
        "max 5.000 us, 3 switched\n"
        "separate: 5 requests, mean 30.000 us, p50 30.000 us, p90 46.000 us, p99 49.600 us, "
        "max 50.000 us, 4 switched\n"
        "wrote " + png.string() + "\n");
}

TEST_CASE("latency.py on a trace without requests says so") {
  const Result r = runScript("latency.py", seedTracePath(), workDir() / "none.png");
  CHECK(r.code == 1);
  CHECK(r.err == "latency.py: error: " + seedTracePath() +
                     ": no requests in this trace (`ipusim compare --trace` fills /requests)\n");
  CHECK_FALSE(fs::exists(workDir() / "none.png"));
}

TEST_CASE("the scripts also draw the known trace (a load step, two runs, four tiles)") {
  for (const char* name : {"timeline.py", "tiles.py"}) {
    const fs::path png = workDir() / (std::string("known-") + name + ".png");
    const Result r = runScript(name, knownTracePath(), png);
    CHECK_MESSAGE(r.code == 0, r.err);
    checkPng(png);
  }
}

TEST_CASE("every script refuses bad input with one line and exit code 1") {
  const std::string missing = (workDir() / "missing.h5").string();
  const std::string text = (workDir() / "scripts-text.h5").string();
  writeText(text, "not HDF5");
  const std::string other = (workDir() / "scripts-other.h5").string();
  { H5::H5File file(other, H5F_ACC_TRUNC); }
  const std::string version2 = (workDir() / "scripts-version2.h5").string();
  writeTrace(version2, knownTrace());
  {
    H5::H5File file(version2, H5F_ACC_RDWR);
    const uint32_t version = 2;
    file.openAttribute("schema_version").write(H5::PredType::NATIVE_UINT32, &version);
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {missing, missing + ": no such file"},
      {text, text + ": not an HDF5 file, so not an ipusim trace"},
      {other, other + ": an HDF5 file, but not an ipusim trace (no root attribute format = \"ipusim-trace\")"},
      {version2, version2 + ": trace schema version 2, but these scripts read version 1 (docs/trace-schema.md)"},
  };
  for (const char* name : {"timeline.py", "tiles.py", "latency.py"}) {
    for (const auto& [path, message] : cases) {
      const fs::path png = workDir() / "bad.png";
      const Result r = runScript(name, path, png);
      CAPTURE(name);
      CHECK(r.code == 1);
      CHECK(r.err == std::string(name) + ": error: " + message + "\n");
      CHECK_FALSE(fs::exists(png));
    }
  }
}
