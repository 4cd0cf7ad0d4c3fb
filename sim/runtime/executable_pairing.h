// A fused executable and one separate executable per subgraph, checked to be the same models:
// what `ipusim compare` serves under both strategies (docs/compare.md).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/executable.h"
#include "sim/runtime/model_runner.h"

namespace ipusim {

struct NamedExecutable {
  std::shared_ptr<const Executable> executable;
  std::string name;  // the file (or model) it came from, for messages
};

// One anchor as the fused executable and the separate one call it.
struct AnchorPair {
  std::string fused;     // graph{i}/stream{j} for inputs, graph{i}/{name} for outputs
  std::string separate;  // the model's own name
  DType dtype = DType::Float32;
  Shape shape;
};

struct ModelPair {
  uint32_t index = 0;  // the subgraph's index: the model number of request streams
  std::string sourceModel;
  NamedExecutable separate;
  std::vector<AnchorPair> inputs;   // in the model's input order
  std::vector<AnchorPair> outputs;
};

struct ExecutablePairing {
  NamedExecutable fused;
  std::vector<ModelPair> models;  // models[m] is subgraph m

  const Target& target() const { return fused.executable->target; }
};

// The i-th separate executable must hold subgraph i of `fused`: a single model whose inputs
// and outputs match the subgraph's by position in name (the fused alias graph{i}/{name}
// against the separate name), dtype and shape, on the same target. Throws RuntimeError, one
// line naming the file, the anchor and what differs.
ExecutablePairing pairExecutables(NamedExecutable fused, std::vector<NamedExecutable> separate);

}  // namespace ipusim
