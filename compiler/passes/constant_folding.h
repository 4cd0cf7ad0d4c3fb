// Constant folding (DESIGN.md section 5, step 3): a node whose inputs are all known at
// compile time is lowered on its own into a scratch executable and run on a simulated
// IPU, so every op that can be lowered can be folded, with the device's own kernels.
// Folding is skipped when an output is larger than max_tensor_size bytes.
#pragma once
#include <cstdint>

#include "compiler/lowering/lowering_registry.h"

namespace ipusim {

// Folds the node if it can: sets its outputs as constants in `values` and returns true.
bool tryFoldConstant(const ImportedModel& model, ModelValues& values, const onnx::NodeProto& node, int nodeIndex,
                     const LoweringEntry& lowering, const Target& target, int64_t maxTensorSize);

}  // namespace ipusim
