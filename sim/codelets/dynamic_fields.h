// Helpers of the data-dependent layout codelets (Gather, Slice with run-time starts, ...):
// their operands arrive as whole regions, their parameters as scalars, and they compute the
// source of every output element on the device.
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/codelet.h"
#include "sim/dtype.h"
#include "sim/error.h"

namespace ipusim::codelets {

// Reads a vertex's scalars in order; running out is a SimError naming the codelet.
class ScalarReader {
 public:
  ScalarReader(std::span<const int64_t> scalars, std::string_view codelet) : scalars_(scalars), codelet_(codelet) {}
  int64_t next();
  DType dtype();  // a DType passed as its enum value
  std::vector<int64_t> list(size_t count);

 private:
  std::span<const int64_t> scalars_;
  std::string_view codelet_;
  size_t at_ = 0;
};

// A field that is one region (or absent: no region), its elements of known size.
class FieldView {
 public:
  FieldView(const VertexData& data, size_t field, size_t elementBytes, std::string_view codelet);
  bool present() const { return present_; }  // the field has a region
  size_t size() const { return bytes_.size() / elementBytes_; }
  uint8_t* at(size_t i) const;  // checked
  uint8_t* at(size_t i, size_t count) const;  // elements [i, i + count), checked
  // Element i read as an integer (floats truncate toward zero), for index operands.
  int64_t index(size_t i, DType dtype) const;
  double real(size_t i, DType dtype) const;

 private:
  std::span<uint8_t> bytes_;
  size_t elementBytes_;
  std::string_view codelet_;
  bool present_ = false;
};

[[noreturn]] void codeletFault(std::string_view codelet, const std::string& why);

// Row-major strides and the product of a shape.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t>& shape);
int64_t product(const std::vector<int64_t>& shape);

// Decomposes flat index `flat` of `shape` into `index` (size of shape).
void unflatten(int64_t flat, const std::vector<int64_t>& shape, std::vector<int64_t>& index);

// Steps a row-major multi-index to the next element of `shape`.
inline void advance(std::vector<int64_t>& index, const std::vector<int64_t>& shape) {
  for (size_t d = index.size(); d-- > 0;) {
    if (++index[d] < shape[d]) return;
    index[d] = 0;
  }
}

// An index into an axis of length `dim`, negative counting from the end; out of range is
// a SimError naming the op (ONNX leaves it undefined, frameworks reject it).
int64_t wrapIndex(int64_t index, int64_t dim, std::string_view codelet);

// Cycle estimate of a data-dependent layout vertex: fixed cost plus a cost per output
// element of field `outField` (index arithmetic and one load/store; docs/cost-model.md).
std::function<uint64_t(const Vertex&, const Target&)> perElementCycles(uint32_t vertexCycles, uint32_t perElement,
                                                                       size_t outField, size_t elementBytes);

// Code bytes of one data-dependent layout codelet on a tile (assumption, docs/cost-model.md).
constexpr uint32_t kLayoutCodeBytes = 512;

}  // namespace ipusim::codelets
