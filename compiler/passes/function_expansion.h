// Function expansion: an op that ONNX defines as a function (LayerNormalization,
// SoftmaxCrossEntropyLoss, Celu, ...) and that has no direct lowering is replaced by its
// function body from the ONNX schema, so it is lowered through the ops of that body.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <onnx/onnx_pb.h>

namespace ipusim {

// Expands, in place, every default-domain node whose op `hasLowering` rejects and whose
// schema has a function body (context-dependent bodies see the inferred input types, so
// run shape inference first). Bodies that use further function ops are expanded in turn.
// Returns whether anything was expanded.
bool expandFunctionOps(onnx::ModelProto& model, int64_t opset,
                       const std::function<bool(const std::string& opType)>& hasLowering);

}  // namespace ipusim
