// Host kernels for the codelets' inner loops: bulk float16 <-> float32 conversion and a
// row-major float matrix product. They only make the simulator faster on the host; the
// results are bit-identical to the scalar paths (conversions round to nearest even, as
// sim/half.h; products accumulate in float in the same order for every build). The x86
// versions use AVX2, FMA and F16C (and AVX-512 for the product) when the build enables them
// and the CPU has them (checked at run time); otherwise portable loops run.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ipusim::codelets::simd {

// `half` points at n binary16 values, with any alignment.
void halfToFloat(const void* half, float* out, size_t n);
void floatToHalf(const float* in, void* half, size_t n);

// c[m x n] = a[m x k] x b[k x n], all row-major floats; c may not alias a or b. Each element
// is a float sum over k in increasing order (fused multiply-adds where the CPU has them).
void matMul(const float* a, const float* b, float* c, size_t m, size_t k, size_t n);
// The same product with b as [k x n] binary16 values (any alignment), converted as they are
// read: the result equals halfToFloat then matMul, without the float copy of b.
void matMulHalfRhs(const float* a, const void* bHalf, float* c, size_t m, size_t k, size_t n);

// Whether the vectorised paths are in use (for tests and diagnostics).
bool vectorised();

}  // namespace ipusim::codelets::simd
