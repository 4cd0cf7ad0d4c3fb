// How each DType is stored in tile memory and the C++ type a codelet computes it in.
// float16 is stored as IEEE binary16 bits and computed in float, rounding back on store,
// as the IPU's f16 arithmetic would round each result.
#pragma once
#include <cstdint>
#include <cstring>

#include "sim/dtype.h"
#include "sim/half.h"

namespace ipusim::codelets {

template <DType D>
struct Element;

// Types stored and computed as themselves. Memory may be unaligned, hence memcpy.
template <typename T>
struct PlainElement {
  using Value = T;
  static constexpr size_t bytes = sizeof(T);
  static Value load(const uint8_t* address) {
    T value;
    std::memcpy(&value, address, sizeof(T));
    return value;
  }
  static void store(uint8_t* address, Value value) { std::memcpy(address, &value, sizeof(T)); }
};

template <> struct Element<DType::Float32> : PlainElement<float> {};
template <> struct Element<DType::Int8> : PlainElement<int8_t> {};
template <> struct Element<DType::UInt8> : PlainElement<uint8_t> {};
template <> struct Element<DType::Int32> : PlainElement<int32_t> {};
template <> struct Element<DType::UInt32> : PlainElement<uint32_t> {};
template <> struct Element<DType::Int64> : PlainElement<int64_t> {};

template <>
struct Element<DType::Float16> {
  using Value = float;
  static constexpr size_t bytes = 2;
  static Value load(const uint8_t* address) {
    uint16_t bits;
    std::memcpy(&bits, address, 2);
    return halfToFloat(bits);
  }
  static void store(uint8_t* address, Value value) {
    const uint16_t bits = floatToHalf(value);
    std::memcpy(address, &bits, 2);
  }
};

// One byte; any non-zero byte reads as true, true is stored as 1.
template <>
struct Element<DType::Bool> {
  using Value = bool;
  static constexpr size_t bytes = 1;
  static Value load(const uint8_t* address) { return *address != 0; }
  static void store(uint8_t* address, Value value) { *address = value ? 1 : 0; }
};

// Calls f.template operator()<D>() for every DType, in allDTypes() order.
template <typename F>
void forEachDType(F&& f) {
  f.template operator()<DType::Float32>();
  f.template operator()<DType::Float16>();
  f.template operator()<DType::Int8>();
  f.template operator()<DType::UInt8>();
  f.template operator()<DType::Int32>();
  f.template operator()<DType::UInt32>();
  f.template operator()<DType::Int64>();
  f.template operator()<DType::Bool>();
}

}  // namespace ipusim::codelets
