// Host tensors for `ipusim run`: seeded random inputs, and values as text or JSON numbers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "popef/json_writer.h"
#include "sim/runtime/model_runner.h"

namespace ipusim::cli {

// Deterministic data for an input that was not given. The generator (SplitMix64, so the
// data is the same on every platform and standard library) is seeded with `seed` mixed
// with a hash of `anchor`, so each input's data does not depend on the others.
// float32/float16: uniform in [-1, 1) on a 2^-23 grid (rounded to nearest for float16);
// int8/int32/int64: uniform integers in [-10, 10]; uint8/uint32: [0, 10]; bool: 0 or 1.
HostTensor randomTensor(DType dtype, const Shape& shape, uint64_t seed, std::string_view anchor);

// Element `i` as text: the shortest form that reads back to the same value
// ("1.5", "3", "-7", "true", "nan"); float16 is printed as the number it holds.
std::string elementText(const HostTensor& tensor, size_t i);

// numpy-like nested brackets ("[[0, 1.5, 2]]") when the tensor has at most `limit`
// elements; otherwise the first `limit` elements in row-major order and "... (N values)".
std::string valuesText(const HostTensor& tensor, size_t limit);

// Appends every element as a JSON number (bool as true/false; NaN and infinities as null),
// flat, in row-major order.
void writeValues(json::Writer& writer, const HostTensor& tensor);

}  // namespace ipusim::cli
