// The compiler's entry points: ONNX models -> Executable, alone or fused (DESIGN.md section 5).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/executable.h"

namespace ipusim {

class CompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModelOptions {
  std::string modelPath;
  std::vector<std::string> inputShapes;  // "X=1,2" overrides
  std::string precision = "fp32";        // "fp32" or "fp16"
  int64_t maxTensorSize = -1;            // constant-folding limit in bytes; -1: none
  std::string ipuVersion = "ipu21";      // target preset
  std::string partialsType = "fp32";     // matmul partials for fp16 inputs: "fp32" or "fp16"
};

Executable compileModel(const ModelOptions& options);
// Compiles each model into its own subgraph and joins them under Switch(index).
Executable fuseModels(const std::vector<ModelOptions>& models);

}  // namespace ipusim
