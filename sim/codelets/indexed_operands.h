// Indexed elementwise codelets (sim/codelets/indexed_codelets.cpp) compute output element e
// from operand elements found by an index function of e, so that one vertex can read a
// broadcast, transposed or diagonal view of an operand (poplibs' broadcast vertices, and
// the strided views einsum needs) without the compiler materialising it.
//
// Fields: [operand_0, ..., operand_{K-1}, out], one region each: a worker's chunk of the
// output and, per operand, the tile-local slice of that operand it reads.
// Scalars: [params (a fixed number per codelet)..., firstElement,
//           then per operand: sliceFirst, groups, (size, stride) x groups]
// firstElement is the flat output index of the out region's first element. An operand's
// index of output element e is  sum_g ((e / prod_{h<g} size_h) % size_g) * stride_g  over
// its groups g, innermost first (stride 0 broadcasts); the element read is that index minus
// sliceFirst within the operand's region.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace ipusim::codelets {

struct IndexPattern {
  int64_t sliceFirst = 0;
  std::vector<std::pair<uint64_t, uint64_t>> groups;  // (size, stride), innermost first

  uint64_t index(uint64_t element) const {
    uint64_t index = 0;
    for (const auto& [size, stride] : groups) {
      index += (element % size) * stride;
      element /= size;
    }
    return index;
  }
};

inline void appendIndexPattern(std::vector<int64_t>& scalars, const IndexPattern& pattern) {
  scalars.push_back(pattern.sliceFirst);
  scalars.push_back(static_cast<int64_t>(pattern.groups.size()));
  for (const auto& [size, stride] : pattern.groups) {
    scalars.push_back(static_cast<int64_t>(size));
    scalars.push_back(static_cast<int64_t>(stride));
  }
}

// Reads a pattern at `at`, advancing it; false if the scalars are malformed.
inline bool readIndexPattern(std::span<const int64_t> scalars, size_t& at, IndexPattern& pattern) {
  if (at + 2 > scalars.size()) return false;
  pattern.sliceFirst = scalars[at];
  const int64_t groups = scalars[at + 1];
  at += 2;
  if (groups < 0 || at + 2 * static_cast<size_t>(groups) > scalars.size()) return false;
  pattern.groups.clear();
  for (int64_t g = 0; g < groups; ++g, at += 2) {
    if (scalars[at] <= 0 || scalars[at + 1] < 0) return false;
    pattern.groups.emplace_back(static_cast<uint64_t>(scalars[at]), static_cast<uint64_t>(scalars[at + 1]));
  }
  return true;
}

}  // namespace ipusim::codelets
