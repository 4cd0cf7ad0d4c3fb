// Runs the `ipusim` binary (and Python with numpy/onnx to make and check files) from the
// CLI tests, in a work folder holding a copy of the generated test models.
#pragma once
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace cli_test {

namespace fs = std::filesystem;

// Each test binary that includes this header needs its own work folder (ctest may run them
// at once): it may define IPUSIM_CLI_WORK_DIR_NAME for its whole target.
#ifndef IPUSIM_CLI_WORK_DIR_NAME
#define IPUSIM_CLI_WORK_DIR_NAME "cli-work"
#endif

// The work folder: a fresh copy of the test models, made once per test binary.
inline const fs::path& workDir() {
  static const fs::path dir = [] {
    fs::path d = fs::path(IPUSIM_BINARY_DIR) / "tests" / IPUSIM_CLI_WORK_DIR_NAME;
    fs::remove_all(d);
    fs::create_directories(d);
    fs::copy(IPUSIM_TEST_MODELS, d, fs::copy_options::recursive);
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
  std::vector<std::string> errLines() const {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < err.size()) {
      size_t end = err.find('\n', start);
      if (end == std::string::npos) end = err.size();
      lines.push_back(err.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }
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

// `ipusim ARGS` (ARGS is shell text: quote paths with spaces).
inline Result ipusim(const std::string& args) { return shell(quote(IPUSIM_CLI) + " " + args); }

// Runs a Python script (numpy and onnx available) in the work folder; returns its result.
inline Result python(const std::string& script) {
  const fs::path file = workDir() / "script.py";
  writeText(file, "import json, os, sys\nimport numpy as np\n" + script);
  return shell("/usr/bin/python3 " + quote(file.string()));
}

// Asserts a failed command: `code`, exactly one line on stderr starting with
// "ipusim <command>: error: ", containing every one of `parts`.
inline void checkFails(const Result& r, const std::string& command, int code,
                       const std::vector<std::string>& parts) {
  CAPTURE(r.err);
  CAPTURE(r.out);
  CHECK(r.code == code);
  const auto lines = r.errLines();
  CHECK(lines.size() == 1);
  CHECK(r.err.rfind("ipusim " + command + ": error: ", 0) == 0);
  for (const std::string& part : parts) {
    CAPTURE(part);
    CHECK(r.err.find(part) != std::string::npos);
  }
}

// Fuses config.yaml once and returns the .popef's path (relative to the work folder).
inline std::string seedPopef() {
  static const std::string path = [] {
    Result r = ipusim("fuse --config config.yaml");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return std::string("executable.popef");
  }();
  return path;
}

// The seed inputs of the demo, written by numpy.
inline void writeSeedInputs() {
  Result r = python(
      "np.save('x0.npy', np.ones((1, 2), dtype=np.float32))\n"
      "np.save('y0.npy', 2 * np.ones((1, 2), dtype=np.float32))\n"
      "np.save('x1.npy', np.zeros((1, 1), dtype=np.float16))\n");
  REQUIRE_MESSAGE(r.code == 0, r.err);
}

}  // namespace cli_test
