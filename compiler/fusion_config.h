// PopRT's model-fusion YAML (DESIGN.md section 1): global keys, per-model overrides.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "compiler/compiler.h"

namespace ipusim {

struct FusionConfig {
  std::string outputDir = "./";
  std::string outputModel = "executable";
  bool exportPopef = true;
  std::vector<ModelOptions> models;  // paths resolved against the YAML's folder

  std::string outputPath() const;  // <output_dir>/<output_model>.popef
};

// Throws CompileError naming the key and the file on any fault.
FusionConfig loadFusionConfig(const std::string& yamlPath);
// The same from YAML text already in memory; `yamlPath` names it in messages and is the
// folder the model paths are relative to (the fuzz target and tests use it).
FusionConfig loadFusionConfigText(std::string_view yamlText, const std::string& yamlPath);

}  // namespace ipusim
