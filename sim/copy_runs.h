// Exchange copies as strided runs, for the host: consecutive copies between the same two
// tiles, of the same size, whose offsets advance by fixed strides (a subsampling or a layout
// change that the compiler emits one element at a time) are performed by one tight loop
// instead of one memcpy call each. What the copies do is unchanged. Engine internals
// (DESIGN.md section 4); the measured gain is in docs/conv-planner.md "Benchmarks".
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "sim/executable.h"

namespace ipusim {

// `count` copies of `bytes` from srcTile, copy i from srcOffset + i * srcStride to the
// destination tile's dstOffset + i * dstStride.
struct CopyRun {
  uint32_t srcTile = 0;
  uint32_t srcOffset = 0;
  uint32_t dstOffset = 0;
  uint32_t bytes = 0;
  uint32_t count = 0;
  int32_t srcStride = 0;
  int32_t dstStride = 0;
};

// Appends `copies` (all to one destination tile, in order) to `runs` as strided runs.
void appendCopyRuns(std::span<const Copy> copies, std::vector<CopyRun>& runs);

// Performs the run's copies, in order, into the destination tile's memory from the source
// tile's memory (nullptr: a tile never touched, which reads as zeros).
void performCopyRun(const CopyRun& run, uint8_t* destinationTile, const uint8_t* sourceTile);

}  // namespace ipusim
