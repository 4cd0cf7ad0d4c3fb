// The cycle model of Transpose2d, the on-tile matrix transpose (docs/cost-model.md, section
// 9), shared by the codelet (what the engine charges) and the matmul planner (a product
// planned with swapped operands produces its output blocks transposed).
#pragma once
#include <cstdint>
#include <string>

#include "sim/dtype.h"

namespace ipusim {

// Worker cycles of one Transpose2d vertex transposing `matrices` matrices of `rows` x `cols`
// elements of `dtype` (float16 or float32): poplibs' poplin::Transpose2d estimator.
uint64_t transpose2dWorkerCycles(DType dtype, uint64_t rows, uint64_t cols, uint64_t matrices);

// The largest number of rows of a `cols`-column matrix that stays on the estimator's fast
// path (0: no limit).
uint64_t transpose2dFastRowLimit(DType dtype, uint64_t cols);

// "Transpose2d<float16>".
std::string transpose2dCodeletName(DType dtype);

}  // namespace ipusim
