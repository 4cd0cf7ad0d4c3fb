#include "sim/dtype.h"

#include <limits>

#include "sim/error.h"

namespace ipusim {

size_t dtypeSize(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float16: return 2;
    case DType::Int8: return 1;
    case DType::UInt8: return 1;
    case DType::Int32: return 4;
    case DType::UInt32: return 4;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  throw SimError("unknown dtype code " + std::to_string(static_cast<int>(t)));
}

std::string_view dtypeName(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::UInt32: return "uint32";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  throw SimError("unknown dtype code " + std::to_string(static_cast<int>(t)));
}

std::optional<DType> dtypeFromName(std::string_view name) {
  for (DType t : allDTypes()) {
    if (dtypeName(t) == name) return t;
  }
  return std::nullopt;
}

bool isFloat(DType t) { return t == DType::Float32 || t == DType::Float16; }

const std::vector<DType>& allDTypes() {
  static const std::vector<DType> all = {DType::Float32, DType::Float16, DType::Int8,
                                         DType::UInt8,   DType::Int32,   DType::UInt32,
                                         DType::Int64,   DType::Bool};
  return all;
}

int64_t elementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) throw SimError("shape " + shapeString(shape) + " has a negative dimension");
    // Checked so that a hostile shape cannot wrap around to a small count.
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      throw SimError("shape " + shapeString(shape) + " has too many elements");
    }
    count *= dim;
  }
  return count;
}

std::string shapeString(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) text += ',';
    text += std::to_string(shape[i]);
  }
  text += ']';
  return text;
}

}  // namespace ipusim
