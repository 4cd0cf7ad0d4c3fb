#include "compiler/lowering/broadcast.h"

#include <algorithm>
#include <vector>

#include "compiler/compiler.h"

namespace ipusim {

Shape broadcastShapes(const Shape& a, const Shape& b, const std::string& what) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw CompileError(what + ": shapes " + shapeString(a) + " and " + shapeString(b) + " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void forEachBroadcastRun(const Shape& source, const Shape& out, uint64_t first, uint64_t count,
                         const std::function<void(const BroadcastRun&)>& emit) {
  const size_t rank = out.size();
  // Source stride of each output dimension (0 where the source is broadcast).
  std::vector<int64_t> srcStride(rank, 0);
  int64_t stride = 1;
  for (size_t k = 0; k < source.size(); ++k) {
    size_t i = rank - 1 - k;
    int64_t dim = source[source.size() - 1 - k];
    srcStride[i] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
  // Decompose `first` into an output index, then walk with an odometer.
  std::vector<int64_t> index(rank, 0);
  uint64_t rem = first;
  for (size_t k = 0; k < rank; ++k) {
    size_t i = rank - 1 - k;
    index[i] = static_cast<int64_t>(rem % static_cast<uint64_t>(out[i]));
    rem /= static_cast<uint64_t>(out[i]);
  }
  uint64_t src = 0;
  for (size_t i = 0; i < rank; ++i) src += static_cast<uint64_t>(index[i] * srcStride[i]);

  BroadcastRun run{first, src, 0};
  for (uint64_t e = first, end = first + count; e < end; ++e) {
    if (run.count > 0 && src != run.srcFirst + run.count) {
      emit(run);
      run = {e, src, 0};
    }
    ++run.count;
    // Advance the odometer.
    for (size_t k = 0; k < rank; ++k) {
      size_t i = rank - 1 - k;
      ++index[i];
      src += static_cast<uint64_t>(srcStride[i]);
      if (index[i] < out[i]) break;
      src -= static_cast<uint64_t>(srcStride[i] * out[i]);
      index[i] = 0;
    }
  }
  if (run.count > 0) emit(run);
}

}  // namespace ipusim
