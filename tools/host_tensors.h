// Host tensors for `ipusim run`: seeded random inputs, and values as text or JSON numbers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "popef/json_writer.h"
#include "sim/runtime/model_runner.h"
#include "sim/runtime/random_tensor.h"

namespace ipusim::cli {

// Seeded random data for an input that was not given (sim/runtime/random_tensor.h).
using ipusim::randomTensor;

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
