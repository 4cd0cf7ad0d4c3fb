// Deterministic random host tensors: the inputs `ipusim run` feeds when none are given, and
// the per-request inputs of `ipusim compare`.
#pragma once
#include <cstdint>
#include <string_view>

#include "sim/runtime/model_runner.h"

namespace ipusim {

// The generator is SplitMix64, so the data is the same on every platform and standard
// library. It is seeded with `seed` mixed with a hash of `name`, so each input's data does
// not depend on the others.
// float32/float16: uniform in [-1, 1) on a 2^-23 grid (rounded to nearest for float16);
// int8/int32/int64: uniform integers in [-10, 10]; uint8/uint32: [0, 10]; bool: 0 or 1.
HostTensor randomTensor(DType dtype, const Shape& shape, uint64_t seed, std::string_view name);

// One SplitMix64 step: a well-mixed 64-bit value from `value` (seeds of numbered items).
uint64_t mixSeed(uint64_t value);

}  // namespace ipusim
