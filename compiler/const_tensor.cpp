#include "compiler/const_tensor.h"

#include <cstring>

#include "compiler/compiler.h"
#include "sim/half.h"

namespace ipusim {

namespace {
template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

int64_t ConstTensor::intAt(int64_t i) const {
  const uint8_t* p = bytes.data() + i * dtypeSize(dtype);
  switch (dtype) {
    case DType::Float32: return static_cast<int64_t>(load<float>(p));
    case DType::Float16: return static_cast<int64_t>(halfToFloat(load<uint16_t>(p)));
    case DType::Int8: return load<int8_t>(p);
    case DType::UInt8: return load<uint8_t>(p);
    case DType::Int32: return load<int32_t>(p);
    case DType::UInt32: return load<uint32_t>(p);
    case DType::Int64: return load<int64_t>(p);
    case DType::Bool: return load<uint8_t>(p) != 0;
  }
  throw CompileError("internal: unknown dtype");
}

std::vector<int64_t> ConstTensor::toInts() const {
  std::vector<int64_t> values(static_cast<size_t>(elements()));
  for (int64_t i = 0; i < elements(); ++i) values[static_cast<size_t>(i)] = intAt(i);
  return values;
}

}  // namespace ipusim
