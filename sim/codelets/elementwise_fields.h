// The field convention of elementwise codelets and the loops that apply an operation to it.
// Fields: binary [in0, in1, out], unary and cast [in, out]. Region k of every field is
// processed together: all fields have the same number of regions, and region k holds the
// same number of elements in each field.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <type_traits>

#include "sim/codelet.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/simd_kernels.h"

namespace ipusim::codelets {

// Throws SimError naming the codelet when `data` breaks the convention; `elementBytes`
// gives the element size of each expected field in order.
void checkElementwiseFields(const VertexData& data, std::initializer_list<size_t> elementBytes,
                            std::string_view codelet);

// Half elements are converted in bulk, a chunk at a time, on the host's vector units: the
// same float values go through the op and are rounded back the same way as one by one.
inline constexpr size_t kHalfChunk = 512;

template <class E>
inline constexpr bool kIsHalf = std::is_same_v<E, Element<DType::Float16>>;

// out[i] = op(in0[i], in1[i]) over every region.
template <class In0, class In1, class Out, class Op>
void applyBinary(const VertexData& data, std::string_view codelet) {
  checkElementwiseFields(data, {In0::bytes, In1::bytes, Out::bytes}, codelet);
  const auto& fields = data.fields;
  if constexpr (kIsHalf<In0> && kIsHalf<In1> && kIsHalf<Out>) {
    float a[kHalfChunk], b[kHalfChunk];
    for (size_t r = 0; r < fields[2].size(); ++r) {
      const size_t count = fields[2][r].size() / 2;
      for (size_t at = 0; at < count; at += kHalfChunk) {
        const size_t n = std::min(kHalfChunk, count - at);
        simd::halfToFloat(fields[0][r].data() + 2 * at, a, n);
        simd::halfToFloat(fields[1][r].data() + 2 * at, b, n);
        for (size_t i = 0; i < n; ++i) a[i] = Op::apply(a[i], b[i]);
        simd::floatToHalf(a, fields[2][r].data() + 2 * at, n);
      }
    }
    return;
  }
  for (size_t r = 0; r < fields[2].size(); ++r) {
    const uint8_t* in0 = fields[0][r].data();
    const uint8_t* in1 = fields[1][r].data();
    uint8_t* out = fields[2][r].data();
    const size_t count = fields[2][r].size() / Out::bytes;
    for (size_t i = 0; i < count; ++i) {
      Out::store(out + i * Out::bytes,
                 Op::apply(In0::load(in0 + i * In0::bytes), In1::load(in1 + i * In1::bytes)));
    }
  }
}

// out[i] = op(in[i]) over every region; `op` maps In::Value to Out::Value.
template <class In, class Out, class Op>
void applyUnary(const VertexData& data, std::string_view codelet) {
  checkElementwiseFields(data, {In::bytes, Out::bytes}, codelet);
  const auto& fields = data.fields;
  if constexpr (kIsHalf<In> && kIsHalf<Out>) {
    float a[kHalfChunk];
    for (size_t r = 0; r < fields[1].size(); ++r) {
      const size_t count = fields[1][r].size() / 2;
      for (size_t at = 0; at < count; at += kHalfChunk) {
        const size_t n = std::min(kHalfChunk, count - at);
        simd::halfToFloat(fields[0][r].data() + 2 * at, a, n);
        for (size_t i = 0; i < n; ++i) a[i] = Op::template apply<float>(a[i]);
        simd::floatToHalf(a, fields[1][r].data() + 2 * at, n);
      }
    }
    return;
  }
  for (size_t r = 0; r < fields[1].size(); ++r) {
    const uint8_t* in = fields[0][r].data();
    uint8_t* out = fields[1][r].data();
    const size_t count = fields[1][r].size() / Out::bytes;
    for (size_t i = 0; i < count; ++i) {
      Out::store(out + i * Out::bytes, Op::template apply<typename Out::Value>(
                                           In::load(in + i * In::bytes)));
    }
  }
}

}  // namespace ipusim::codelets
