// Shape folding at import: ONNX shape inference cannot see through every shape computation
// (LayerNormalization's body negates its axis to size a ConstantOfShape, which data
// propagation does not follow), so some tensors downstream of Shape stay without a static
// shape. When that happens, nodes whose values are known at compile time (Constant, Shape
// and Size of statically shaped tensors, anything whose inputs are all constant) are
// evaluated with their own lowerings, the same way constant folding does during lowering,
// replaced by initializers, and shape inference runs again, until every shape is static or
// nothing more folds.
#pragma once
#include <onnx/onnx_pb.h>

#include "compiler/compiler.h"

namespace ipusim {

// Folds in place; does nothing when every tensor already has a static shape. Throws what
// shape inference throws.
void foldToStaticShapes(onnx::ModelProto& model, int64_t opset, const ModelOptions& options);

}  // namespace ipusim
