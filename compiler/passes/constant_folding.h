// Constant folding (DESIGN.md section 5, step 3): a node whose inputs are all known at
// compile time is evaluated on the host, with the same codelet kernels the device runs,
// as long as its outputs fit max_tensor_size.
#pragma once
#include <cstdint>

#include "compiler/lowering/lowering_context.h"

namespace ipusim {

// Folds the node if it can: sets its outputs as constants and returns true.
bool tryFoldConstant(LoweringContext& ctx, int64_t maxTensorSize);

}  // namespace ipusim
