// A trace whose datasets claim more rows than the file stores is refused before the reader
// allocates room for them (docs/robustness.md).
#include <doctest/doctest.h>

#include <H5Cpp.h>

#include "tests/traces/trace_test_support.h"
#include "traces/trace_reader.h"
#include "traces/trace_writer.h"

using namespace trace_test;

TEST_CASE("a trace claiming a huge table it does not store is refused before allocating it") {
  const std::string path = (workDir() / "huge-runs.h5").string();
  writeTrace(path, knownTrace());
  {
    // /runs becomes 2^30 rows of 36 bytes (36 GiB) that were never written: HDF5 keeps no
    // chunk for them, so the file stays a few kilobytes.
    H5::H5File file(path, H5F_ACC_RDWR);
    const H5::DataSet old = file.openDataSet("/runs");
    const H5::CompType rowType = old.getCompType();
    file.unlink("/runs");
    const hsize_t rows = hsize_t{1} << 30;
    const hsize_t chunk = 1024;
    H5::DSetCreatPropList chunked;
    chunked.setChunk(1, &chunk);
    file.createDataSet("/runs", rowType, H5::DataSpace(1, &rows), chunked);
  }
  try {
    readTrace(path);
    FAIL("a 2^30-row /runs was read");
  } catch (const TraceError& e) {
    const std::string message = e.what();
    CHECK(message.rfind(path + ": malformed ipusim trace: /runs claims ", 0) == 0);
    CHECK(message.find(" bytes but stores only 0") != std::string::npos);
  }
}

TEST_CASE("fuzz regression: a global heap whose objects claim the wrong sizes is refused, not looped on") {
  // Found by fuzz_trace: one byte inserted into the global heap of compare.h5 (where the
  // variable-length strings live) made HDF5 1.10 loop for ever reading the format attribute.
  const std::string path =
      std::string(IPUSIM_SOURCE_DIR) + "/tests/fuzz/regressions/trace/global_heap_free_space_zero.h5";
  try {
    readTrace(path);
    FAIL("the damaged trace was read");
  } catch (const TraceError& e) {
    CHECK(std::string(e.what()).rfind(path + ": corrupt HDF5 global heap at byte ", 0) == 0);
  }
  // A heap whose free space claims 0 bytes, the loop itself.
  const std::string whole = readText(std::string(IPUSIM_SOURCE_DIR) + "/tests/fuzz/corpus/trace/run.h5");
  const size_t heap = whole.find(std::string("GCOL\x01", 5));
  REQUIRE(heap != std::string::npos);
  std::string zeroFree = whole;
  // The first object (index 1, 12 bytes: "ipusim-trace") ends at 16 + 16 + 16; the next
  // header becomes a free-space object of size 0.
  const size_t next = heap + 48;
  for (size_t i = 0; i < 16; ++i) zeroFree[next + i] = '\0';
  const std::string zeroPath = (workDir() / "zero-free.h5").string();
  writeText(zeroPath, zeroFree);
  try {
    readTrace(zeroPath);
    FAIL("a heap with a 0-byte free space was read");
  } catch (const TraceError& e) {
    CHECK(std::string(e.what()) ==
          zeroPath + ": corrupt HDF5 global heap at byte " + std::to_string(next) + ": its free space claims 0 bytes");
  }
}

TEST_CASE("bit flips anywhere in a trace: a TraceError naming the file, or a trace that passes its checks") {
  const std::string whole = readText(std::string(IPUSIM_SOURCE_DIR) + "/tests/fuzz/corpus/trace/run.h5");
  const std::string path = (workDir() / "flipped.h5").string();
  int refused = 0;
  for (size_t at = 0; at < whole.size(); at += 211) {
    CAPTURE(at);
    std::string flipped = whole;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    writeText(path, flipped);
    try {
      readTrace(path);
    } catch (const TraceError& e) {
      ++refused;
      CHECK(std::string(e.what()).rfind(path + ": ", 0) == 0);
    }
  }
  CHECK(refused > 0);
}

TEST_CASE("fuzz regression: files that crash HDF5 itself are TraceErrors, not crashes") {
  // Found by fuzz_trace: HDF5 1.10 reads out of bounds on these (a global heap index past its
  // table, corrupt object header messages, a corrupt layout). The reader reads a file in a
  // child process first, so HDF5's crash there is reported here.
  for (const char* name : {"heap_object_index_past_table.h5", "h5o_msg_iterate_overflow.h5",
                           "h5d_scatgath_read_overflow.h5", "h5d_select_read_crash.h5"}) {
    CAPTURE(name);
    const std::string path = std::string(IPUSIM_SOURCE_DIR) + "/tests/fuzz/regressions/trace/" + name;
    try {
      readTrace(path);
      // Without the sanitizers some of these overflows go unnoticed and the file is refused
      // (or, never seen so far, read) in this process: a TraceError or a trace, not a crash.
    } catch (const TraceError& e) {
      CHECK(std::string(e.what()).rfind(path + ": ", 0) == 0);
    }
  }
  const std::string crashing =
      std::string(IPUSIM_SOURCE_DIR) + "/tests/fuzz/regressions/trace/heap_object_index_past_table.h5";
  try {
    readTraceInfo(crashing);
    FAIL("the info of a file that crashes HDF5 was read");
  } catch (const TraceError& e) {
    CHECK(std::string(e.what()).rfind(crashing + ": HDF5 crashed reading the file (signal ", 0) == 0);
  }
}
