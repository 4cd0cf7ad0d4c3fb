// Lowers one imported model into a GraphBuilder: its input streams, its nodes through the
// lowering registry, its output streams. Shared by compileModel and fuseModels.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "compiler/import/onnx_import.h"
#include "compiler/lowering/graph_builder.h"

namespace ipusim {

struct AnchorNaming {
  std::string variablePrefix;  // "" alone, "graph{i}/" fused
  bool positionalInputs = false;  // fused: inputs are "graph{i}/stream{j}"
};

struct LoweredModel {
  Program program;  // stream in, compute, stream out
  std::vector<std::string> inputAnchors;
  std::vector<std::string> outputAnchors;
  std::vector<std::pair<std::string, std::string>> aliases;  // alias -> anchor
};

LoweredModel lowerModel(const ImportedModel& model, const ModelOptions& options, GraphBuilder& builder,
                        const AnchorNaming& naming);

}  // namespace ipusim
