// The ONNX backend node-test runner behind `ipusim conformance`: each test folder holds
// model.onnx and test_data_set_*/{input,output}_*.pb. A test compiles with its inputs'
// shapes, runs every data set on the simulated IPU and compares the outputs.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/runtime/model_runner.h"

namespace ipusim::cli {

enum class ConformanceStatus { Pass, Wrong, Unsupported, Error };
std::string_view conformanceStatusName(ConformanceStatus status);

struct ConformanceResult {
  std::string name;  // the test folder's name
  ConformanceStatus status = ConformanceStatus::Error;
  std::string reason;             // empty for pass; one line otherwise
  std::vector<std::string> ops;   // op types of the model, in first-use order
};

// Tolerances (docs/conformance.md): |actual - expected| <= atol + rtol * |expected|.
struct Tolerance {
  double rtol = 0;
  double atol = 0;
};
Tolerance toleranceFor(DType dtype);

// Compares one output; on a difference returns false and says where in `why`.
bool outputsMatch(const HostTensor& expected, const HostTensor& actual, std::string* why);

// Folders that are tests (hold model.onnx): each path is a test or a folder of tests.
// Throws std::runtime_error naming a path that is neither.
std::vector<std::string> findConformanceTests(const std::vector<std::string>& paths);

// Never throws: every fault of the test becomes its status and reason.
ConformanceResult runConformanceTest(const std::string& testDir);

// Runs tests on `jobs` host threads; results keep the order of `testDirs`.
std::vector<ConformanceResult> runConformanceTests(const std::vector<std::string>& testDirs, unsigned jobs,
                                                   const std::function<void(size_t done, size_t total)>& progress);

}  // namespace ipusim::cli
