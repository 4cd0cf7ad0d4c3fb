// Hardening (docs/robustness.md): the step budget of `run`, writes interrupted half way,
// NaN and infinite inputs.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "cli_support.h"
#include "tests/interrupted_write.h"

using namespace cli_test;

namespace {

// True when `dir` holds a file whose name contains ".tmp": the temporary a killed writer
// left behind, which shows the kill came in the middle of the write.
bool holdsTemporary(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp") != std::string::npos) return true;
  return false;
}

// Runs `ipusim ARGS` with the file-size limit at `blocks` blocks (512 bytes under dash, 1 KiB
// under bash): the kernel kills it with SIGXFSZ as soon as a write goes past that, wherever it
// is in the write. The outputs below are several times the limit.
Result ipusimWithFileLimit(int blocks, const std::string& args) {
  // Standard output goes to /dev/null: only the files the command writes meet the limit.
  return shell("(ulimit -f " + std::to_string(blocks) + "; exec " + quote(IPUSIM_CLI) + " " + args +
               " >/dev/null)");
}

constexpr int kKilledBySigxfsz = 128 + 25;

}  // namespace

TEST_CASE("run --max-cycles: a run past its step budget ends with one clear line") {
  const std::string popef = seedPopef();
  Result ok = ipusim("run " + popef + " --index 0 --json -");
  REQUIRE_MESSAGE(ok.code == 0, ok.err);
  // The seed's load program takes under 1000 cycles, its main about 6600.
  checkFails(ipusim("run " + popef + " --index 0 --max-cycles 1000"), "run", 1,
             {"program main ran past its budget of 1000 cycles (--max-cycles) at ",
              "a runaway program, or raise the budget"});
  checkFails(ipusim("run " + popef + " --index 0 --max-cycles -1"), "run", 2,
             {"--max-cycles must be 0 (no budget) or a number of cycles"});
  checkFails(ipusim("run " + popef + " --index 0 --max-cycles lots"), "run", 2, {"max-cycles"});
  Result unbounded = ipusim("run " + popef + " --index 0 --max-cycles 0 --json -");
  CHECK_MESSAGE(unbounded.code == 0, unbounded.err);
  // The budget changes nothing in a run that stays within it.
  auto execCycles = [](const std::string& json) {
    const size_t at = json.find("\"exec_cycles\":");
    return at == std::string::npos ? std::string() : json.substr(at, json.find(',', at) - at);
  };
  CHECK(!execCycles(ok.out).empty());
  CHECK(execCycles(unbounded.out) == execCycles(ok.out));
  CHECK(ipusim("run --help").out.find("--max-cycles") != std::string::npos);
}

TEST_CASE("interrupted writes: a command killed mid-write leaves no partial file under the final name") {
  writeText(workDir() / "interrupted.yaml",
            "output_model: 'interrupted'\nmodel_fusion:\n  - input_model: 'model0.onnx'\n"
            "  - input_model: 'model1.onnx'\n");

  SUBCASE("fuse: the .popef") {
    // An older file under the final name stays whole.
    writeText(workDir() / "interrupted.popef", "the previous file");
    const Result r = ipusimWithFileLimit(1, "fuse --config interrupted.yaml");
    CHECK(r.code == kKilledBySigxfsz);
    CHECK(readText(workDir() / "interrupted.popef") == "the previous file");
    CHECK(holdsTemporary(workDir()));
    for (const auto& entry : fs::directory_iterator(workDir()))
      if (entry.path().filename().string().rfind("interrupted.popef.tmp", 0) == 0) fs::remove(entry.path());
    REQUIRE(ipusim("fuse --config interrupted.yaml").code == 0);
    CHECK(ipusim("dump interrupted.popef").code == 0);
  }

  SUBCASE("run --output-dir: the .npy outputs") {
    REQUIRE(ipusim("compile temps_a.onnx -o temps_a.popef").code == 0);
    fs::remove_all(workDir() / "interrupted-out");
    const Result r = ipusimWithFileLimit(16, "run temps_a.popef --output-dir interrupted-out");
    CHECK(r.code == kKilledBySigxfsz);
    CHECK(fs::is_directory(workDir() / "interrupted-out"));
    CHECK(!fs::exists(workDir() / "interrupted-out" / "O.npy"));
    CHECK(holdsTemporary(workDir() / "interrupted-out"));
  }

  SUBCASE("run --trace: the HDF5 trace") {
    const std::string popef = seedPopef();
    fs::remove_all(workDir() / "interrupted-trace");
    fs::create_directories(workDir() / "interrupted-trace");
    const Result r = ipusimWithFileLimit(4, "run " + popef + " --index 0 --trace interrupted-trace/run.h5");
    CHECK(r.code == kKilledBySigxfsz);
    CHECK(!fs::exists(workDir() / "interrupted-trace" / "run.h5"));
    CHECK(holdsTemporary(workDir() / "interrupted-trace"));
  }

  SUBCASE("dump --json: the JSON result") {
    REQUIRE(ipusim("compile temps_a.onnx -o temps_a.popef").code == 0);
    fs::remove_all(workDir() / "interrupted-json");
    fs::create_directories(workDir() / "interrupted-json");
    const Result r = ipusimWithFileLimit(16, "dump temps_a.popef --json interrupted-json/dump.json");
    CHECK(r.code == kKilledBySigxfsz);
    CHECK(!fs::exists(workDir() / "interrupted-json" / "dump.json"));
    CHECK(holdsTemporary(workDir() / "interrupted-json"));
  }
}

TEST_CASE("interrupted run: SIGINT while `ipusim run` writes an output leaves no partial file") {
  // The output O of temps_a is 16512 bytes, written to sigint-out/O.npy.tmp.<pid> and then
  // renamed. That temporary is made a FIFO whose buffer holds one page, so the command is
  // inside write() with 12 KiB still to go when SIGINT comes; Ctrl-C does the same.
  REQUIRE(ipusim("compile temps_a.onnx -o temps_a.popef").code == 0);
  const fs::path dir = workDir() / "sigint-out";
  fs::remove_all(dir);
  fs::create_directories(dir);
  writeText(dir / "O.npy", "the previous file");

  // The command keeps its pid across exec, so its temporary's name is known before it starts.
  const interrupt_test::InterruptedWrite r = interrupt_test::interruptMidWrite(
      [&](pid_t pid) { return (dir / ("O.npy.tmp." + std::to_string(pid))).string(); }, 6, [] {
        const int null = ::open("/dev/null", O_WRONLY);
        if (null < 0 || ::dup2(null, 1) < 0 || ::dup2(null, 2) < 0 || ::chdir(workDir().c_str()) != 0) ::_exit(121);
        ::execl(IPUSIM_CLI, IPUSIM_CLI, "run", "temps_a.popef", "--output-dir", "sigint-out",
                static_cast<char*>(nullptr));
        ::_exit(122);
      });
  const fs::path temporary = r.temporary;
  // The .npy's first bytes came (the command simulates first, then writes) and the command
  // was still writing when SIGINT came.
  CHECK(r.head == std::string("\x93NUMPY", 6));
  CHECK_FALSE(r.finished);
  CHECK(WIFSIGNALED(r.status));
  CHECK(WTERMSIG(r.status) == SIGINT);
  // The final name still holds the previous file, whole: only the temporary holds a part.
  CHECK(readText(dir / "O.npy") == "the previous file");
  CHECK(fs::exists(fs::symlink_status(temporary)));
  fs::remove(temporary);

  // Uninterrupted, the same command replaces the file.
  REQUIRE(ipusim("run temps_a.popef --output-dir sigint-out").code == 0);
  CHECK(fs::file_size(dir / "O.npy") == 16512);
  CHECK(!holdsTemporary(dir));
}

TEST_CASE("NaN and infinite inputs run through: outputs hold them, JSON writes null") {
  const std::string popef = seedPopef();
  Result made = python(
      "np.save('x_nan.npy', np.array([[np.nan, np.inf]], dtype=np.float32))\n"
      "np.save('y_inf.npy', np.array([[1.0, -np.inf]], dtype=np.float32))\n"
      "np.save('y_one.npy', np.array([[1.0, 1.0]], dtype=np.float32))\n");
  REQUIRE_MESSAGE(made.code == 0, made.err);
  fs::remove_all(workDir() / "nan-out");
  Result r = ipusim("run " + popef + " --index 0 --input graph0/X=x_nan.npy --input graph0/Y=y_one.npy"
                    " --output-dir nan-out --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("\"values\": [\n        null,\n        null\n      ]") != std::string::npos);
  Result check = python(
      "o = np.load('nan-out/graph0_O.npy')\n"
      "assert o.dtype == np.float32 and o.shape == (2,), o\n"
      "assert np.isnan(o[0]) and o[1] == np.inf, o\n");
  CHECK_MESSAGE(check.code == 0, check.err);
  // inf + -inf is NaN, as IEEE says.
  r = ipusim("run " + popef + " --index 0 --input graph0/X=x_nan.npy --input graph0/Y=y_inf.npy"
             " --output-dir nan-out");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  check = python("o = np.load('nan-out/graph0_O.npy')\nassert np.isnan(o).all(), o\n");
  CHECK_MESSAGE(check.code == 0, check.err);
}

TEST_CASE("fuzz regression: a message quoting control bytes of a file stays one escaped line") {
  // Found by fuzz_npy: a header key holding newlines and bytes 0x84 was echoed raw, so the
  // one-line error spanned lines. The command line escapes control characters.
  const std::string popef = seedPopef();
  const std::string input =
      std::string(IPUSIM_SOURCE_DIR) + "/tests/fuzz/regressions/npy/control_chars_in_header_key.npy";
  const Result r = ipusim("run " + popef + " --index 0 --input graph0/X=" + quote(input));
  checkFails(r, "run", 1, {"control_chars_in_header_key.npy: broken .npy header: unexpected key 'fortran_",
                           "order'"});
  CHECK(std::none_of(r.err.begin(), r.err.end() - 1,
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
  CHECK(r.err.back() == '\n');

  // A terminal escape sequence in a requests-file line is escaped too.
  writeText(workDir() / "escape.csv", "model\n0\n\x1b[2J7\n");
  checkFails(ipusim("compare --config config.yaml --requests-file escape.csv"),
             "compare", 1, {"escape.csv line 3", "\\x1b[2J7"});
}

TEST_CASE("fuzz regression: a .pb shape whose partial products overflow is refused as invalid") {
  // Found by fuzz_tensor_proto: dims (167679, 10, ..., 101, 0, ...) hold 0 elements, so the
  // reader took them, but their partial products pass 2^63 and every later elementCount threw.
  const std::string popef = seedPopef();
  const std::string input = std::string(IPUSIM_SOURCE_DIR) +
                            "/tests/fuzz/regressions/tensor_proto/zero_size_shape_overflowing_int64.pb";
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=" + quote(input)), "run", 1,
             {"zero_size_shape_overflowing_int64.pb: TensorProto has invalid dims [167679,10,"});
}

TEST_CASE(".pb inputs: truncated, claiming a huge shape, NaN in typed fields") {
  const std::string popef = seedPopef();
  Result made = python(
      "from onnx import TensorProto, helper, numpy_helper\n"
      "whole = numpy_helper.from_array(np.ones((1, 2), np.float32), 'X').SerializeToString()\n"
      "open('cut.pb', 'wb').write(whole[:len(whole) - 3])\n"
      "t = TensorProto(name='X', data_type=TensorProto.FLOAT, dims=[1000000, 1000000], raw_data=bytes(4))\n"
      "open('huge_raw.pb', 'wb').write(t.SerializeToString())\n"
      "t = TensorProto(name='X', data_type=TensorProto.FLOAT, dims=[1000000, 1000000], float_data=[1.0])\n"
      "open('huge_typed.pb', 'wb').write(t.SerializeToString())\n"
      "t = helper.make_tensor('X', TensorProto.FLOAT, [1, 2], [float('nan'), float('-inf')])\n"
      "open('nan.pb', 'wb').write(t.SerializeToString())\n");
  REQUIRE_MESSAGE(made.code == 0, made.err);
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=cut.pb"), "run", 1,
             {"cut.pb: not a valid ONNX TensorProto"});
  // The claims are checked against the bytes held before anything is allocated.
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=huge_raw.pb"), "run", 1,
             {"huge_raw.pb: TensorProto float32 [1000000,1000000] needs 4000000000000 bytes of raw_data, it holds 4"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=huge_typed.pb"), "run", 1,
             {"huge_typed.pb: TensorProto float32 [1000000,1000000] needs 1000000000000 values in float_data, it holds 1"});
  Result r = ipusim("run " + popef + " --index 0 --input graph0/X=nan.pb --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("\"values\": [\n        null,\n        null\n      ]") != std::string::npos);
}
