// Codelets that work along one axis of blocks gathered onto a tile: CumSum and TopK.
// A block is [axis, width] row-major: `width` independent lines (columns) of `axis`
// elements each. Fields hold paired regions of whole blocks.
//
// CumSum<T>: fields [in, out]; scalars [axis, width, exclusive, reverse]. Each line is
// summed sequentially in T (float16 rounds at every step, integers wrap), like numpy's
// cumsum and onnxruntime.
// TopK<T>: fields [in, outValues, outIndices (int64)], out blocks [k, width]; scalars
// [axis, width, k, largest]. Results are sorted (largest first, or smallest first), ties
// broken by the lower axis position (onnxruntime); NaN counts as larger than any number.
// TopKMerge<T>: the second stage of a line split into pieces: fields [values, indices
// (int64, positions within their piece), outValues, outIndices], lines of candidates
// (width 1); scalars [candidates, 1, k, largest, pieceLength, perPiece]: candidate j came
// from piece j / perPiece, so its position in the line is (j / perPiece) * pieceLength +
// its index.
// Cycle figures: docs/cost-model.md.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/reduce_ops.h"
#include "sim/codelets/vertex_checks.h"
#include "sim/error.h"

namespace ipusim::codelets {
namespace {

template <typename V>
V addStep(V a, V b) {
  if constexpr (std::is_integral_v<V>) {
    using U = std::make_unsigned_t<V>;
    return static_cast<V>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}

struct BlockShape {
  size_t axis = 0, width = 0;
};

BlockShape blockShape(const VertexData& data, size_t scalars, std::string_view codelet) {
  if (data.scalars.size() != scalars) fail(codelet, "expects " + std::to_string(scalars) + " scalars");
  if (data.scalars[0] < 0 || data.scalars[1] <= 0) fail(codelet, "axis and width must be positive");
  return {static_cast<size_t>(data.scalars[0]), static_cast<size_t>(data.scalars[1])};
}

template <DType D>
void cumSumKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using V = typename E::Value;
  if (data.fields.size() != 2 || data.fields[0].size() != data.fields[1].size()) {
    fail(codelet, "expects fields [in, out] with paired regions");
  }
  const BlockShape block = blockShape(data, 4, codelet);
  const bool exclusive = data.scalars[2] != 0, reverse = data.scalars[3] != 0;
  const size_t blockElements = block.axis * block.width;
  for (size_t r = 0; r < data.fields[0].size(); ++r) {
    const auto& in = data.fields[0][r];
    const auto& out = data.fields[1][r];
    if (in.size() != out.size() || blockElements == 0 || in.size() % (blockElements * E::bytes) != 0) {
      fail(codelet, "region " + std::to_string(r) + " is not whole blocks");
    }
    const size_t blocks = in.size() / (blockElements * E::bytes);
    for (size_t b = 0; b < blocks; ++b) {
      for (size_t column = 0; column < block.width; ++column) {
        V sum{};
        for (size_t step = 0; step < block.axis; ++step) {
          const size_t a = reverse ? block.axis - 1 - step : step;
          const size_t at = (b * blockElements + a * block.width + column) * E::bytes;
          const V x = E::load(in.data() + at);
          if (!exclusive) sum = addStep(sum, x);
          E::store(out.data() + at, sum);
          sum = E::load(out.data() + at);  // the stored (rounded) value carries on
          if (exclusive) {
            sum = addStep(sum, x);
            if constexpr (D == DType::Float16) sum = halfToFloat(floatToHalf(sum));
          }
        }
      }
    }
  }
}

// Orders candidates best first: by value (NaN largest), then by lower axis position.
template <typename V>
bool better(V a, int64_t ia, V b, int64_t ib, bool largest) {
  bool aNaN = false, bNaN = false;
  if constexpr (std::is_floating_point_v<V>) {
    aNaN = std::isnan(a);
    bNaN = std::isnan(b);
  }
  if (aNaN || bNaN) {
    if (aNaN && bNaN) return ia < ib;
    return largest ? aNaN : bNaN;
  }
  if (a != b) return largest ? a > b : a < b;
  return ia < ib;
}

template <DType D>
void topKKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using V = typename E::Value;
  using Index = Element<DType::Int64>;
  if (data.fields.size() != 3 || data.fields[0].size() != data.fields[1].size() ||
      data.fields[0].size() != data.fields[2].size()) {
    fail(codelet, "expects fields [in, outValues, outIndices] with paired regions");
  }
  const BlockShape block = blockShape(data, 4, codelet);
  const int64_t kScalar = data.scalars[2];
  if (kScalar < 0 || static_cast<size_t>(kScalar) > block.axis) fail(codelet, "k must be within the axis");
  const size_t k = static_cast<size_t>(kScalar);
  const bool largest = data.scalars[3] != 0;
  const size_t inBlock = block.axis * block.width, outBlock = k * block.width;
  std::vector<V> values(block.axis);
  std::vector<int64_t> order(block.axis);
  for (size_t r = 0; r < data.fields[0].size(); ++r) {
    const auto& in = data.fields[0][r];
    if (inBlock == 0 || in.size() % (inBlock * E::bytes) != 0) fail(codelet, "input region is not whole blocks");
    const size_t blocks = in.size() / (inBlock * E::bytes);
    if (data.fields[1][r].size() != blocks * outBlock * E::bytes ||
        data.fields[2][r].size() != blocks * outBlock * Index::bytes) {
      fail(codelet, "output regions do not hold k rows per block");
    }
    for (size_t b = 0; b < blocks; ++b) {
      for (size_t column = 0; column < block.width; ++column) {
        for (size_t a = 0; a < block.axis; ++a) {
          values[a] = E::load(in.data() + (b * inBlock + a * block.width + column) * E::bytes);
        }
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                          [&](int64_t x, int64_t y) {
                            return better(values[static_cast<size_t>(x)], x, values[static_cast<size_t>(y)], y,
                                          largest);
                          });
        for (size_t j = 0; j < k; ++j) {
          const size_t at = b * outBlock + j * block.width + column;
          E::store(data.fields[1][r].data() + at * E::bytes, values[static_cast<size_t>(order[j])]);
          Index::store(data.fields[2][r].data() + at * Index::bytes, order[j]);
        }
      }
    }
  }
}

template <DType D>
void topKMergeKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using V = typename E::Value;
  using Index = Element<DType::Int64>;
  if (data.fields.size() != 4 || data.fields[0].size() != 1 || data.fields[1].size() != 1 ||
      data.fields[2].size() != 1 || data.fields[3].size() != 1) {
    fail(codelet, "expects fields [values, indices, outValues, outIndices] of one region each");
  }
  const BlockShape block = blockShape(data, 6, codelet);
  const int64_t k = data.scalars[2], pieceLength = data.scalars[4], perPiece = data.scalars[5];
  const bool largest = data.scalars[3] != 0;
  if (block.width != 1 || k < 0 || static_cast<size_t>(k) > block.axis || pieceLength <= 0 || perPiece <= 0) {
    fail(codelet, "bad candidate layout");
  }
  const size_t candidates = block.axis, kk = static_cast<size_t>(k);
  if (candidates == 0 || data.fields[0][0].size() % (candidates * E::bytes) != 0) fail(codelet, "not whole lines");
  const size_t lines = data.fields[0][0].size() / (candidates * E::bytes);
  if (data.fields[1][0].size() != lines * candidates * Index::bytes || data.fields[2][0].size() != lines * kk * E::bytes ||
      data.fields[3][0].size() != lines * kk * Index::bytes) {
    fail(codelet, "regions do not match the candidate lines");
  }
  std::vector<V> values(candidates);
  std::vector<int64_t> positions(candidates);
  std::vector<size_t> order(candidates);
  for (size_t line = 0; line < lines; ++line) {
    for (size_t j = 0; j < candidates; ++j) {
      const size_t at = line * candidates + j;
      values[j] = E::load(data.fields[0][0].data() + at * E::bytes);
      positions[j] = static_cast<int64_t>(j) / perPiece * pieceLength + Index::load(data.fields[1][0].data() + at * Index::bytes);
    }
    std::iota(order.begin(), order.end(), size_t{0});
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kk), order.end(), [&](size_t x, size_t y) {
      return better(values[x], positions[x], values[y], positions[y], largest);
    });
    for (size_t j = 0; j < kk; ++j) {
      E::store(data.fields[2][0].data() + (line * kk + j) * E::bytes, values[order[j]]);
      Index::store(data.fields[3][0].data() + (line * kk + j) * Index::bytes, positions[order[j]]);
    }
  }
}

// CumSum (assumption; poplibs has no scan vertex): 20 cycles of vertex overhead, 10 per
// block, then an add and a store per element: 2 cycles for floats, 4 for integers.
template <DType D>
uint64_t cumSumCycles(const Vertex& v, const Target&) {
  uint64_t cycles = 20;
  if (v.fields.size() < 2 || v.scalars.size() < 2) return cycles;
  const uint64_t blockElements = static_cast<uint64_t>(std::max<int64_t>(1, v.scalars[0] * v.scalars[1]));
  for (const Region& r : v.fields[0]) {
    const uint64_t elements = r.bytes / dtypeSize(D);
    cycles += elements / blockElements * 10 + elements * (isFloatDType(D) ? 2 : 4);
  }
  return cycles;
}

// TopK: popnn's ReduceMaxNClassGather estimate: per line 23 + per element (13 + 20 ln k)
// for the heap, 8 per result, and the sorted pops 10 + 20 ln i for i = k..1.
template <DType D>
uint64_t topKCycles(const Vertex& v, const Target&) {
  uint64_t cycles = 12;
  if (v.fields.size() < 3 || v.scalars.size() < 3) return cycles;
  const double axis = static_cast<double>(std::max<int64_t>(1, v.scalars[0]));
  const double k = static_cast<double>(std::max<int64_t>(1, v.scalars[2]));
  double perLine = 23 + axis * (13 + 20 * std::log(k)) + 8 * k;
  for (double i = k; i >= 1; --i) perLine += 10 + 20 * std::log(i);
  for (const Region& r : v.fields[0]) {
    const double lines = static_cast<double>(r.bytes / dtypeSize(D)) / axis;
    cycles += static_cast<uint64_t>(std::ceil(lines * perLine));
  }
  return cycles;
}

std::string codeletName(std::string_view op, DType d) {
  std::string name(op);
  name += '<';
  name += dtypeName(d);
  name += '>';
  return name;
}

template <DType D>
void addScanCodelets(CodeletRegistry& registry) {
  Codelet cumsum;
  cumsum.name = codeletName("CumSum", D);
  cumsum.kernel = [name = cumsum.name](const VertexData& data) { cumSumKernel<D>(data, name); };
  cumsum.cycles = cumSumCycles<D>;
  cumsum.codeBytes = kReduceCodeBytes;
  registry.add(std::move(cumsum));

  Codelet topk;
  topk.name = codeletName("TopK", D);
  topk.kernel = [name = topk.name](const VertexData& data) { topKKernel<D>(data, name); };
  topk.cycles = topKCycles<D>;
  topk.codeBytes = kReduceCodeBytes;
  registry.add(std::move(topk));

  Codelet merge;
  merge.name = codeletName("TopKMerge", D);
  merge.kernel = [name = merge.name](const VertexData& data) { topKMergeKernel<D>(data, name); };
  merge.cycles = topKCycles<D>;  // the same heap over the candidates
  merge.codeBytes = kReduceCodeBytes;
  registry.add(std::move(merge));
}

}  // namespace

void registerScanCodelets(CodeletRegistry& registry) {
  forEachDType([&]<DType D>() {
    if constexpr (D != DType::Bool) addScanCodelets<D>(registry);
  });
}

}  // namespace ipusim::codelets
