#include "tools/conformance_runner.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "compiler/compiler.h"
#include "compiler/import/onnx_import.h"
#include "popef/popef_file.h"
#include "sim/error.h"
#include "sim/half.h"
#include "tools/tensor_files.h"

namespace ipusim::cli {

namespace fs = std::filesystem;

namespace {

// What the test folder says about the model, read without compiling it.
struct ModelSignature {
  std::vector<std::string> inputs;   // graph inputs that are not initializers
  std::vector<std::string> outputs;
};

onnx::ModelProto readModel(const std::string& modelPath) {
  std::ifstream in(modelPath, std::ios::binary);
  onnx::ModelProto model;
  if (!in || !model.ParseFromIstream(&in)) throw std::runtime_error(modelPath + ": not a valid ONNX model");
  return model;
}

std::vector<std::string> readOps(const std::string& modelPath) {
  const onnx::ModelProto model = readModel(modelPath);
  std::vector<std::string> ops;
  for (const auto& node : model.graph().node())
    if (std::find(ops.begin(), ops.end(), node.op_type()) == ops.end()) ops.push_back(node.op_type());
  return ops;
}

ModelSignature readSignature(const std::string& modelPath) {
  const onnx::ModelProto model = readModel(modelPath);
  ModelSignature sig;
  std::set<std::string> initializers;
  for (const auto& init : model.graph().initializer()) initializers.insert(init.name());
  // Sequences, optionals, maps and element types the IPU lacks are unsupported before any
  // data is read: their .pb files are not plain tensors.
  auto checkType = [&](const onnx::ValueInfoProto& vi, const char* role) {
    const auto& type = vi.type();
    if (!type.has_tensor_type()) {
      const char* kind = type.has_sequence_type() ? "a sequence" : type.has_optional_type() ? "an optional" : "not a tensor";
      throw CompileError(std::string(role) + " '" + vi.name() + "' is " + kind + ", which is not supported");
    }
    dtypeFromOnnx(type.tensor_type().elem_type(), std::string(role) + " '" + vi.name() + "'");
  };
  for (const auto& vi : model.graph().input()) {
    if (initializers.count(vi.name())) continue;
    checkType(vi, "input");
    sig.inputs.push_back(vi.name());
  }
  for (const auto& vi : model.graph().output()) {
    checkType(vi, "output");
    sig.outputs.push_back(vi.name());
  }
  return sig;
}

// test_data_set_* folders in name order, and their numbered .pb files.
std::vector<fs::path> dataSets(const fs::path& testDir) {
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(testDir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

std::vector<HostTensor> readNumbered(const fs::path& dir, const std::string& prefix) {
  std::vector<HostTensor> tensors;
  for (size_t i = 0;; ++i) {
    fs::path file = dir / (prefix + std::to_string(i) + ".pb");
    if (!fs::exists(file)) break;
    tensors.push_back(readTensorProto(file.string()));
  }
  return tensors;
}

double elementAsDouble(const HostTensor& t, size_t i) {
  const uint8_t* p = t.data.data() + i * dtypeSize(t.dtype);
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof v);
    return static_cast<double>(v);
  };
  switch (t.dtype) {
    case DType::Float32: return load(float{});
    case DType::Float16: {
      uint16_t bits;
      std::memcpy(&bits, p, 2);
      return halfToFloat(bits);
    }
    case DType::Int8: return load(int8_t{});
    case DType::UInt8: return load(uint8_t{});
    case DType::Int32: return load(int32_t{});
    case DType::UInt32: return load(uint32_t{});
    case DType::Int64: return load(int64_t{});
    case DType::Bool: return p[0] != 0;
  }
  return 0;
}

std::string compileReason(const std::string& message) {
  // The test folder's path prefixes most compiler messages; keep the part after the model path.
  const auto at = message.find("model.onnx: ");
  return at == std::string::npos ? message : message.substr(at + 12);
}

ConformanceResult finish(ConformanceResult r, ConformanceStatus status, std::string reason) {
  r.status = status;
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  r.reason = std::move(reason);
  return r;
}

}  // namespace

std::string_view conformanceStatusName(ConformanceStatus status) {
  switch (status) {
    case ConformanceStatus::Pass: return "pass";
    case ConformanceStatus::Wrong: return "wrong";
    case ConformanceStatus::Unsupported: return "unsupported";
    case ConformanceStatus::Error: return "error";
  }
  return "error";
}

Tolerance toleranceFor(DType dtype) {
  switch (dtype) {
    case DType::Float32: return {1e-3, 1e-5};
    // float16 carries 11 significant bits; a chain of ops rounds at every step.
    case DType::Float16: return {4e-3, 1e-5};
    default: return {0, 0};
  }
}

bool outputsMatch(const HostTensor& expected, const HostTensor& actual, std::string* why) {
  auto say = [why](const std::string& text) {
    if (why) *why = text;
    return false;
  };
  if (expected.dtype != actual.dtype) {
    return say("dtype " + std::string(dtypeName(actual.dtype)) + ", expected " + std::string(dtypeName(expected.dtype)));
  }
  if (expected.shape != actual.shape) {
    return say("shape " + shapeString(actual.shape) + ", expected " + shapeString(expected.shape));
  }
  const size_t n = static_cast<size_t>(elementCount(expected.shape));
  if (expected.data.size() != actual.data.size()) return say("byte size differs");
  const Tolerance tol = toleranceFor(expected.dtype);
  const bool exact = tol.rtol == 0 && tol.atol == 0;
  for (size_t i = 0; i < n; ++i) {
    if (exact) {
      const size_t size = dtypeSize(expected.dtype);
      bool same = expected.dtype == DType::Bool
                      ? (expected.data[i] != 0) == (actual.data[i] != 0)
                      : std::memcmp(expected.data.data() + i * size, actual.data.data() + i * size, size) == 0;
      if (same) continue;
    } else {
      const double e = elementAsDouble(expected, i), a = elementAsDouble(actual, i);
      if (std::isnan(e) && std::isnan(a)) continue;
      if (std::isinf(e) || std::isinf(a) ? e == a : std::fabs(a - e) <= tol.atol + tol.rtol * std::fabs(e)) continue;
    }
    std::ostringstream s;
    s.precision(9);
    s << "element " << i << " is " << elementAsDouble(actual, i) << ", expected " << elementAsDouble(expected, i);
    return say(s.str());
  }
  return true;
}

std::vector<std::string> findConformanceTests(const std::vector<std::string>& paths) {
  std::vector<std::string> tests;
  for (const std::string& path : paths) {
    if (fs::is_regular_file(fs::path(path) / "model.onnx")) {
      tests.push_back(path);
      continue;
    }
    if (!fs::is_directory(path)) throw std::runtime_error(path + ": no such folder");
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.is_directory() && fs::is_regular_file(entry.path() / "model.onnx")) found.push_back(entry.path().string());
    if (found.empty()) throw std::runtime_error(path + ": neither a test (model.onnx) nor a folder of tests");
    std::sort(found.begin(), found.end());
    tests.insert(tests.end(), found.begin(), found.end());
  }
  return tests;
}

ConformanceResult runConformanceTest(const std::string& testDir) {
  ConformanceResult r;
  r.name = fs::path(testDir).filename().string();
  if (r.name.empty()) r.name = fs::path(testDir).parent_path().filename().string();
  const std::string modelPath = (fs::path(testDir) / "model.onnx").string();
  try {
    r.ops = readOps(modelPath);
    ModelSignature sig;
    try {
      sig = readSignature(modelPath);
    } catch (const CompileError& e) {
      return finish(r, ConformanceStatus::Unsupported, e.what());
    }
    const auto sets = dataSets(testDir);
    if (sets.empty()) return finish(r, ConformanceStatus::Error, "no test_data_set_* folder");

    std::map<std::vector<Shape>, std::shared_ptr<ModelRunner>> runners;  // one compile per input shapes
    for (const fs::path& set : sets) {
      const std::vector<HostTensor> inputs = readNumbered(set, "input_");
      const std::vector<HostTensor> expected = readNumbered(set, "output_");
      if (inputs.size() != sig.inputs.size()) {
        return finish(r, ConformanceStatus::Error,
                      set.filename().string() + " has " + std::to_string(inputs.size()) + " inputs, the model " +
                          std::to_string(sig.inputs.size()));
      }
      std::vector<Shape> shapes;
      for (const auto& t : inputs) shapes.push_back(t.shape);
      auto& runner = runners[shapes];
      if (!runner) {
        ModelOptions options;
        options.modelPath = modelPath;
        for (size_t i = 0; i < inputs.size(); ++i) {
          if (inputs[i].shape.empty()) continue;  // a scalar's shape needs no override
          std::string spec = sig.inputs[i] + "=";
          for (size_t d = 0; d < inputs[i].shape.size(); ++d) {
            if (d) spec += ',';
            spec += std::to_string(inputs[i].shape[d]);
          }
          options.inputShapes.push_back(spec);
        }
        try {
          runner = std::make_shared<ModelRunner>(std::make_shared<Executable>(compileModel(options)), RuntimeConfig{1});
        } catch (const CompileError& e) {
          const std::string what = e.what();
          const bool internal = what.find("internal:") != std::string::npos;
          return finish(r, internal ? ConformanceStatus::Error : ConformanceStatus::Unsupported, compileReason(what));
        }
      }
      std::map<std::string, HostTensor> feeds;
      for (size_t i = 0; i < inputs.size(); ++i) feeds[sig.inputs[i]] = inputs[i];
      RunResult result = runner->execute(std::nullopt, feeds);
      if (expected.size() != sig.outputs.size()) {
        return finish(r, ConformanceStatus::Error,
                      set.filename().string() + " has " + std::to_string(expected.size()) + " outputs, the model " +
                          std::to_string(sig.outputs.size()));
      }
      for (size_t k = 0; k < expected.size(); ++k) {
        auto it = result.outputs.find(sig.outputs[k]);
        if (it == result.outputs.end()) return finish(r, ConformanceStatus::Error, "no output " + sig.outputs[k]);
        std::string why;
        if (!outputsMatch(expected[k], it->second, &why)) {
          return finish(r, ConformanceStatus::Wrong, set.filename().string() + ": output '" + sig.outputs[k] + "': " + why);
        }
      }
    }
    return finish(r, ConformanceStatus::Pass, "");
  } catch (const std::exception& e) {
    return finish(r, ConformanceStatus::Error, e.what());
  }
}

std::vector<ConformanceResult> runConformanceTests(const std::vector<std::string>& testDirs, unsigned jobs,
                                                   const std::function<void(size_t, size_t)>& progress) {
  std::vector<ConformanceResult> results(testDirs.size());
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex progressMutex;
  auto worker = [&] {
    for (size_t i = next++; i < testDirs.size(); i = next++) {
      results[i] = runConformanceTest(testDirs[i]);
      const size_t finished = ++done;
      if (progress) {
        std::lock_guard lock(progressMutex);
        progress(finished, testDirs.size());
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::max(1u, jobs); ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace ipusim::cli
