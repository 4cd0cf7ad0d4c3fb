// A tensor whose value is known at compile time (initializers, folded constants).
#pragma once
#include <cstdint>
#include <vector>

#include "sim/dtype.h"

namespace ipusim {

struct ConstTensor {
  DType dtype = DType::Float32;
  Shape shape;
  std::vector<uint8_t> bytes;  // row-major

  int64_t elements() const { return elementCount(shape); }
  // Element i converted to int64 (integer and bool tensors) or truncated (floats).
  int64_t intAt(int64_t i) const;
  std::vector<int64_t> toInts() const;
};

}  // namespace ipusim
