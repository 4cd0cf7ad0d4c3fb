// numpy broadcasting: the output shape of two operands, and where each output element
// reads from in an operand, as contiguous runs (for exchange copies and constant expansion).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "sim/dtype.h"

namespace ipusim {

// Throws CompileError naming `what` when the shapes do not broadcast.
Shape broadcastShapes(const Shape& a, const Shape& b, const std::string& what);

// A run: output elements [outFirst, outFirst + count) read source elements
// [srcFirst, srcFirst + count).
struct BroadcastRun {
  uint64_t outFirst = 0;
  uint64_t srcFirst = 0;
  uint64_t count = 0;
};

// Calls `emit` with the maximal runs covering output elements [first, first + count) of
// `source` broadcast to `out`.
void forEachBroadcastRun(const Shape& source, const Shape& out, uint64_t first, uint64_t count,
                         const std::function<void(const BroadcastRun&)>& emit);

}  // namespace ipusim
