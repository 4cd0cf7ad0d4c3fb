// Layout ops as exchanges (DESIGN.md section 5): at compile time, every output element's
// source element (an index map); the maximal runs of consecutive sources become the copies
// of one exchange; output elements with no source (Pad's border, Trilu's zeros, ...) are
// filled on their own tile by a Fill vertex.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/lowering/lowering_context.h"

namespace ipusim {

inline constexpr int64_t kNoSource = -1;

// Output elements [outFirst, outFirst + count) read source elements [srcFirst, ...), or
// nothing when srcFirst is kNoSource (a gap).
struct IndexRun {
  uint64_t outFirst = 0;
  int64_t srcFirst = kNoSource;
  uint64_t count = 0;
};

// A map in which each output axis contributes independently: the element at multi-index
// (i_0, ..., i_r-1) reads source element base + sum_d axisOffsets[d][i_d], or nothing if
// any axisOffsets[d][i_d] is kNoSource. Transpose, Slice, Tile, Expand, Pad, DepthToSpace,
// Resize nearest and Gather with constant indices are all such maps, and walking one costs
// a few additions per element.
struct SeparableIndexMap {
  Shape outShape;
  std::vector<std::vector<int64_t>> axisOffsets;
  int64_t base = 0;
};

// Row-major strides of a shape.
std::vector<int64_t> stridesOf(const Shape& shape);

// The map of a strided view: output index i_d reads source offset base + i_d * strides[d].
SeparableIndexMap stridedIndexMap(const Shape& outShape, const std::vector<int64_t>& strides, int64_t base = 0);

// Calls emit with the maximal runs covering output elements [first, first + count).
// Consecutive gaps merge into one run.
using RunSink = std::function<void(const IndexRun&)>;
void forEachIndexRun(const SeparableIndexMap& map, uint64_t first, uint64_t count, const RunSink& emit);
void forEachIndexRun(uint64_t first, uint64_t count, const std::function<int64_t(uint64_t)>& srcIndexOf,
                     const RunSink& emit);

// Whether the map reads source elements 0..n-1 in order for n = its output size (an alias).
bool isIdentityMap(const SeparableIndexMap& map);

// Adds the copies of the map's runs, from `srcVar` into `dstVar`, to `exchange`; returns the
// gaps. addCopy splits runs at tile boundaries and merges contiguous ones.
std::vector<IndexRun> copyByIndexMap(GraphBuilder& builder, uint32_t exchange, uint32_t srcVar, uint32_t dstVar,
                                     const SeparableIndexMap& map);
std::vector<IndexRun> copyByIndexMap(GraphBuilder& builder, uint32_t exchange, uint32_t srcVar, uint32_t dstVar,
                                     uint64_t outCount, const std::function<int64_t(uint64_t)>& srcIndexOf);

// The value that fills gaps: a compile-time scalar, or one element of a variable (a
// run-time scalar such as Pad's constant_value input).
struct FillValue {
  std::optional<ConstTensor> constant;
  Slice element;  // when not constant
};
FillValue zeroFill(DType dtype);

// Element i of a compile-time tensor set from a number, converted as a Cast would
// (float16 rounds to nearest even, integers wrap, bool is value != 0).
void setConstElement(ConstTensor& tensor, int64_t i, double value);
void setConstElement(ConstTensor& tensor, int64_t i, int64_t value);
// Element i of a compile-time tensor as a double (floats exactly, integers converted).
double constantRealAt(const ConstTensor& tensor, int64_t i = 0);
// A scalar of `dtype` holding `value`.
ConstTensor scalarConstant(DType dtype, double value);

// Fills the gaps of `dstVar` on the tiles that hold them: the value is placed on each such
// tile (a constant, or copied there by `exchange`) and Fill vertices of `computeSet` write it,
// split over the workers.
void fillGaps(GraphBuilder& builder, const std::string& name, uint32_t dstVar, const std::vector<IndexRun>& gaps,
              const FillValue& value, uint32_t exchange, uint32_t computeSet);

// Lowers output `output` of the node as input `input` rearranged by `map`: a linearly mapped
// output, one exchange and, if the map has gaps, a Fill compute set. An identity map aliases
// the input instead.
void lowerIndexMapped(LoweringContext& ctx, size_t input, const SeparableIndexMap& map,
                      const std::optional<FillValue>& fill = std::nullopt, size_t output = 0);

// Input i's value when it is known at compile time as integers, else nothing.
std::optional<std::vector<int64_t>> constantInts(const LoweringContext& ctx, size_t input);

// An axis attribute or value normalised into [0, rank); throws CompileError naming the op.
int64_t normaliseAxis(const LoweringContext& ctx, int64_t axis, int64_t rank);

}  // namespace ipusim
