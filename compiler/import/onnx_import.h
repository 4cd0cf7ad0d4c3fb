// ONNX -> a checked, statically shaped model (DESIGN.md section 5, step 1).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <onnx/onnx_pb.h>

#include "compiler/compiler.h"
#include "compiler/const_tensor.h"

namespace ipusim {

struct TensorInfo {
  DType dtype = DType::Float32;
  Shape shape;
};

struct ImportedModel {
  std::string path;
  onnx::ModelProto proto;  // overrides and precision applied, checked, shapes inferred
  int64_t opset = 0;       // of the default ONNX domain
  std::vector<std::string> inputs;   // graph inputs that are not initializers, in order
  std::vector<std::string> outputs;
  std::map<std::string, TensorInfo> tensors;     // every tensor, all static
  std::map<std::string, ConstTensor> constants;  // initializers
  DType matMulPartials = DType::Float32;  // ModelOptions::partialsType, for fp16 products
};

// Throws CompileError naming the file and the fault (missing file, not ONNX, checker or
// shape-inference failure, a shape that cannot be made static, an unsupported dtype).
ImportedModel importModel(const ModelOptions& options);

// "X=1,2" -> {"X", {1, 2}}; throws CompileError on a malformed spec.
std::pair<std::string, Shape> parseInputShape(const std::string& spec);

DType dtypeFromOnnx(int32_t elementType, const std::string& what);
int32_t onnxFromDType(DType dtype);
ConstTensor constTensorFromProto(const onnx::TensorProto& proto, const std::string& what);

}  // namespace ipusim
