// Element types the simulated IPU stores, and shapes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipusim {

enum class DType : uint8_t { Float32, Float16, Int8, UInt8, Int32, UInt32, Int64, Bool };

using Shape = std::vector<int64_t>;

size_t dtypeSize(DType t);
// Lower-case numpy-style name: "float32", "float16", "int8", "uint8", "int32", "uint32", "int64", "bool".
std::string_view dtypeName(DType t);
std::optional<DType> dtypeFromName(std::string_view name);
bool isFloat(DType t);
const std::vector<DType>& allDTypes();

int64_t elementCount(const Shape& shape);
std::string shapeString(const Shape& shape);  // "[1,2]"

}  // namespace ipusim
