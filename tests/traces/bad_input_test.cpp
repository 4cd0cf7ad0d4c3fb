// Bad input to the reader: each gives one clear line naming the file and what is wrong,
// and HDF5 prints nothing of its own.
#include <doctest/doctest.h>
#include <unistd.h>

#include <H5Cpp.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "tests/traces/trace_test_support.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

using namespace trace_test;

namespace {

// Captures what the process writes to stderr while `body` runs.
template <typename Body>
std::string capturedStderr(Body body) {
  const fs::path file = workDir() / "captured.stderr";
  std::fflush(stderr);
  const int saved = ::dup(2);
  FILE* sink = std::fopen(file.c_str(), "w");
  REQUIRE(sink != nullptr);
  ::dup2(::fileno(sink), 2);
  body();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(sink);
  return readText(file);
}

// The reader's message for `path`; fails the test when it reads without error.
std::string readError(const std::string& path) {
  std::string message;
  const std::string printed = capturedStderr([&] {
    try {
      readTrace(path);
    } catch (const TraceError& e) {
      message = e.what();
    }
  });
  CHECK_MESSAGE(printed.empty(), printed);
  CHECK_MESSAGE(!message.empty(), (std::string("read ") + path + " without an error"));
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.rfind(path, 0) == 0);  // names the file first
  return message;
}

std::string writeKnown(const std::string& name) {
  const std::string path = (workDir() / name).string();
  writeTrace(path, knownTrace());
  return path;
}

}  // namespace

TEST_CASE("a missing file") {
  const std::string path = (workDir() / "missing.h5").string();
  CHECK(readError(path) == path + ": no such file");
}

TEST_CASE("a folder") {
  const std::string path = workDir().string();
  CHECK(readError(path) == path + ": is a folder, not a trace file");
}

TEST_CASE("a file that is not HDF5") {
  const std::string text = (workDir() / "text.h5").string();
  writeText(text, "this is not HDF5\n");
  CHECK(readError(text) == text + ": not an HDF5 file, so not an ipusim trace");
  const std::string empty = (workDir() / "empty-file.h5").string();
  writeText(empty, "");
  CHECK(readError(empty) == empty + ": not an HDF5 file, so not an ipusim trace");
}

TEST_CASE("an HDF5 file that is not an ipusim trace") {
  const std::string path = (workDir() / "other.h5").string();
  {
    H5::H5File file(path, H5F_ACC_TRUNC);
    const hsize_t n = 3;
    const int values[3] = {1, 2, 3};
    file.createDataSet("data", H5::PredType::STD_I32LE, H5::DataSpace(1, &n))
        .write(values, H5::PredType::NATIVE_INT);
  }
  CHECK(readError(path) == path +
                               ": an HDF5 file, but not an ipusim trace (no root attribute "
                               "format = \"ipusim-trace\")");
}

TEST_CASE("a trace of another schema version") {
  const std::string path = writeKnown("version2.h5");
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    const uint32_t version = 2;
    file.openAttribute("schema_version").write(H5::PredType::NATIVE_UINT32, &version);
  }
  CHECK(readError(path) == path +
                               ": trace schema version 2, but this ipusim reads version 1 "
                               "(docs/trace-schema.md)");
  try {
    readTraceInfo(path);
    FAIL("readTraceInfo accepted schema version 2");
  } catch (const TraceError& e) {
    CHECK(std::string(e.what()).find("trace schema version 2") != std::string::npos);
  }
}

TEST_CASE("a trace with a dataset missing") {
  const std::string path = writeKnown("no-runs.h5");
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    file.unlink("/runs");
  }
  CHECK(readError(path) == path + ": malformed ipusim trace: missing dataset /runs");

  const std::string noTiles = writeKnown("no-tiles.h5");
  {
    H5::H5File file(noTiles, H5F_ACC_RDWR);
    file.unlink("/tiles");
  }
  CHECK(readError(noTiles) == noTiles + ": malformed ipusim trace: missing group /tiles");
}

TEST_CASE("a trace whose per-tile rows disagree with its steps") {
  const std::string path = writeKnown("wide.h5");
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    file.unlink("/tiles/compute_cycles");
    const hsize_t dims[2] = {2, 5};
    const uint64_t zeros[10] = {};
    file.createDataSet("/tiles/compute_cycles", H5::PredType::STD_U64LE, H5::DataSpace(2, dims))
        .write(zeros, H5::PredType::NATIVE_UINT64);
  }
  CHECK(readError(path) ==
        path + ": malformed ipusim trace: /tiles/compute_cycles is 2 x 5, expected 2 x 4");
}

TEST_CASE("a truncated trace") {
  const std::string whole = writeKnown("whole.h5");
  const std::string bytes = readText(whole);
  const std::string path = (workDir() / "truncated.h5").string();
  writeText(path, bytes.substr(0, bytes.size() / 2));
  const std::string message = readError(path);
  CHECK_MESSAGE(message.find(path + ": ") == 0, message);
}

TEST_CASE("a trace whose datasets have the wrong element types") {
  // Per-tile cycles as float64, then as uint32: the reader wants the writer's uint64.
  // The known trace with /tiles/compute_cycles (2 x 4 zeros) stored as `fileType`.
  auto withCycles = [](const std::string& name, const H5::PredType& fileType, const H5::PredType& memoryType) {
    const std::string path = writeKnown(name);
    H5::H5File file(path, H5F_ACC_RDWR);
    file.unlink("/tiles/compute_cycles");
    const hsize_t dims[2] = {2, 4};
    const uint64_t zeros[8] = {};  // 64 bytes: zeros in any type of at most 8 bytes
    file.createDataSet("/tiles/compute_cycles", fileType, H5::DataSpace(2, dims)).write(zeros, memoryType);
    return path;
  };
  const std::string floats = withCycles("float-cycles.h5", H5::PredType::IEEE_F64LE, H5::PredType::NATIVE_DOUBLE);
  CHECK(readError(floats) == floats + ": malformed ipusim trace: /tiles/compute_cycles is not integer");
  const std::string narrow = withCycles("u32-cycles.h5", H5::PredType::STD_U32LE, H5::PredType::NATIVE_UINT32);
  CHECK(readError(narrow) == narrow + ": malformed ipusim trace: /tiles/compute_cycles is not little-endian uint64");

  // A table that is not a compound, and one whose rows lack a field.
  const std::string flat = writeKnown("flat-runs.h5");
  {
    H5::H5File file(flat, H5F_ACC_RDWR);
    file.unlink("/runs");
    const hsize_t n = 2;
    const uint64_t values[2] = {};
    file.createDataSet("/runs", H5::PredType::STD_U64LE, H5::DataSpace(1, &n)).write(values, H5::PredType::NATIVE_UINT64);
  }
  CHECK(readError(flat) == flat + ": malformed ipusim trace: /runs is not a table");

  const std::string fewer = writeKnown("fewer-fields.h5");
  {
    H5::H5File file(fewer, H5F_ACC_RDWR);
    file.unlink("/runs");
    H5::CompType row(sizeof(uint32_t));
    row.insertMember("run", 0, H5::PredType::STD_U32LE);
    const hsize_t n = 2;
    const uint32_t values[2] = {0, 1};
    file.createDataSet("/runs", row, H5::DataSpace(1, &n)).write(values, row);
  }
  const std::string message = readError(fewer);
  CHECK(message.rfind(fewer + ": malformed ipusim trace: /runs has no field '", 0) == 0);
}

TEST_CASE("a trace with NaN or infinite numbers") {
  // The clock: every cycle count converts to time with it.
  for (double clock : {std::nan(""), HUGE_VAL, 0.0, -1.5e9}) {
    CAPTURE(clock);
    const std::string path = writeKnown("clock.h5");
    {
      H5::H5File file(path, H5F_ACC_RDWR);
      file.openAttribute("clock_hz").write(H5::PredType::NATIVE_DOUBLE, &clock);
    }
    CHECK(readError(path) == path + ": malformed ipusim trace: the trace's clock_hz is not a positive finite frequency");
  }

  // Request times: only the latency_us member of /requests is rewritten.
  for (double latency : {std::nan(""), -HUGE_VAL}) {
    CAPTURE(latency);
    const std::string path = writeKnown("requests.h5");
    {
      H5::H5File file(path, H5F_ACC_RDWR);
      H5::CompType member(sizeof(double));
      member.insertMember("latency_us", 0, H5::PredType::NATIVE_DOUBLE);
      std::vector<double> latencies(knownTrace().requests.size(), 1.0);
      latencies[3] = latency;
      file.openDataSet("/requests").write(latencies.data(), member);
    }
    CHECK(readError(path) ==
          path + ": malformed ipusim trace: /requests row 3 holds a time that is not a finite number");
  }

  // The writer refuses them too.
  Trace trace = knownTrace();
  trace.requests[0].arrivalUs = std::nan("");
  CHECK_THROWS_WITH_AS(writeTrace((workDir() / "nan-written.h5").string(), trace),
                       doctest::Contains("/requests row 0 holds a time that is not a finite number"), TraceError);
  CHECK_FALSE(fs::exists(workDir() / "nan-written.h5"));
}
