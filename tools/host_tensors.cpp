#include "tools/host_tensors.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "sim/half.h"

namespace ipusim::cli {

namespace {

template <typename T>
T load(const HostTensor& tensor, size_t i) {
  T value;
  std::memcpy(&value, tensor.data.data() + i * sizeof(T), sizeof(T));
  return value;
}

std::string floatText(float value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

void nested(const HostTensor& tensor, size_t dim, size_t& index, std::string& out) {
  if (dim == tensor.shape.size()) {
    out += elementText(tensor, index++);
    return;
  }
  out += '[';
  for (int64_t k = 0; k < tensor.shape[dim]; ++k) {
    if (k) out += ", ";
    nested(tensor, dim + 1, index, out);
  }
  out += ']';
}

}  // namespace

std::string elementText(const HostTensor& tensor, size_t i) {
  switch (tensor.dtype) {
    case DType::Float32: return floatText(load<float>(tensor, i));
    case DType::Float16: return floatText(halfToFloat(load<uint16_t>(tensor, i)));
    case DType::Int8: return std::to_string(load<int8_t>(tensor, i));
    case DType::UInt8: return std::to_string(load<uint8_t>(tensor, i));
    case DType::Int32: return std::to_string(load<int32_t>(tensor, i));
    case DType::UInt32: return std::to_string(load<uint32_t>(tensor, i));
    case DType::Int64: return std::to_string(load<int64_t>(tensor, i));
    case DType::Bool: return load<uint8_t>(tensor, i) ? "true" : "false";
  }
  return "?";
}

std::string valuesText(const HostTensor& tensor, size_t limit) {
  const size_t count = static_cast<size_t>(elementCount(tensor.shape));
  std::string out;
  if (count <= limit) {
    size_t index = 0;
    nested(tensor, 0, index, out);
    return out;
  }
  out = "[";
  for (size_t i = 0; i < limit; ++i) out += (i ? ", " : "") + elementText(tensor, i);
  return out + ", ...] (" + std::to_string(count) + " values)";
}

void writeValues(json::Writer& w, const HostTensor& tensor) {
  const size_t count = static_cast<size_t>(elementCount(tensor.shape));
  for (size_t i = 0; i < count; ++i) {
    switch (tensor.dtype) {
      case DType::Float32:
      case DType::Float16: {
        const float value = tensor.dtype == DType::Float32 ? load<float>(tensor, i)
                                                           : halfToFloat(load<uint16_t>(tensor, i));
        // Through the float's shortest text, so 0.1f is written 0.1, not 0.100000001.
        if (std::isfinite(value))
          w.value(std::strtod(floatText(value).c_str(), nullptr));
        else
          w.null();
        break;
      }
      case DType::Int8: w.value(load<int8_t>(tensor, i)); break;
      case DType::UInt8: w.value(load<uint8_t>(tensor, i)); break;
      case DType::Int32: w.value(load<int32_t>(tensor, i)); break;
      case DType::UInt32: w.value(load<uint32_t>(tensor, i)); break;
      case DType::Int64: w.value(load<int64_t>(tensor, i)); break;
      case DType::Bool: w.value(load<uint8_t>(tensor, i) != 0); break;
    }
  }
}

}  // namespace ipusim::cli
