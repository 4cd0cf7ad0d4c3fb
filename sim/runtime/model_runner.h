// The user-facing runtime: load a .popef onto a simulated device, bind anchors by name
// (or alias), pick the subgraph of a fused executable, execute.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/executable.h"

namespace ipusim {

class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HostTensor {
  DType dtype = DType::Float32;
  Shape shape;
  std::vector<uint8_t> data;  // row-major
};

struct AnchorInfo {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  StreamDirection direction = StreamDirection::HostToDevice;
  std::optional<uint32_t> subgraph;  // fused executables only
};

struct RuntimeConfig {
  unsigned hostThreads = 0;  // 0: one per hardware thread
  uint64_t maxCycles = kDefaultMaxCycles;  // step budget of each run (Engine::setMaxCycles); 0: none
};

struct RunResult {
  std::optional<uint32_t> index;  // the subgraph that ran (fused executables)
  uint64_t execCycles = 0;
  std::map<std::string, HostTensor> outputs;
};

class ModelRunner {
 public:
  explicit ModelRunner(const std::string& popefPath, RuntimeConfig config = {});
  explicit ModelRunner(std::shared_ptr<const Executable> exe, RuntimeConfig config = {});
  ~ModelRunner();

  const Executable& executable() const;
  std::vector<AnchorInfo> inputs() const;   // without the index anchor
  std::vector<AnchorInfo> outputs() const;
  uint64_t loadCycles() const;

  // Inputs of a subgraph (all inputs for a single model), with the subgraph to run.
  std::vector<AnchorInfo> inputsOf(std::optional<uint32_t> index) const;
  // Works out which subgraph to run: `index` if given (or an "index" input), otherwise the
  // one subgraph whose inputs were given. Throws RuntimeError when it cannot.
  std::optional<uint32_t> resolveIndex(std::optional<int64_t> index,
                                       const std::map<std::string, HostTensor>& inputs) const;
  // Checks names, dtypes and shapes, runs main once. Throws RuntimeError on bad input.
  RunResult execute(std::optional<int64_t> index, const std::map<std::string, HostTensor>& inputs);

  void setObserver(StepObserver* observer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipusim
