#include "sim/copy_runs.h"

#include <cstring>
#include <limits>

namespace ipusim {

namespace {

// The stride from one offset to the next, when it fits the run's field.
bool strideOf(uint32_t from, uint32_t to, int32_t& stride) {
  const int64_t difference = int64_t{to} - int64_t{from};
  if (difference < std::numeric_limits<int32_t>::min() || difference > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  stride = static_cast<int32_t>(difference);
  return true;
}

// The run's copies with their size a constant, so that each is a few inlined moves.
template <size_t Bytes>
void copyFixed(const CopyRun& run, uint8_t* destination, const uint8_t* source) {
  for (uint32_t i = 0; i < run.count; ++i) {
    std::memcpy(destination + int64_t{i} * run.dstStride, source + int64_t{i} * run.srcStride, Bytes);
  }
}

}  // namespace

void appendCopyRuns(std::span<const Copy> copies, std::vector<CopyRun>& runs) {
  for (size_t i = 0; i < copies.size();) {
    const Copy& first = copies[i];
    CopyRun run{first.srcTile, first.srcOffset, first.dstOffset, first.bytes, 1, 0, 0};
    size_t next = i + 1;
    if (next < copies.size() && copies[next].srcTile == first.srcTile && copies[next].bytes == first.bytes &&
        strideOf(first.srcOffset, copies[next].srcOffset, run.srcStride) &&
        strideOf(first.dstOffset, copies[next].dstOffset, run.dstStride)) {
      for (; next < copies.size(); ++next) {
        const Copy& previous = copies[next - 1];
        const Copy& copy = copies[next];
        if (copy.srcTile != first.srcTile || copy.bytes != first.bytes ||
            int64_t{copy.srcOffset} - previous.srcOffset != run.srcStride ||
            int64_t{copy.dstOffset} - previous.dstOffset != run.dstStride) {
          break;
        }
      }
      run.count = static_cast<uint32_t>(next - i);
    }
    runs.push_back(run);
    i = next;
  }
}

void performCopyRun(const CopyRun& run, uint8_t* destinationTile, const uint8_t* sourceTile) {
  uint8_t* destination = destinationTile + run.dstOffset;
  if (sourceTile == nullptr) {
    for (uint32_t i = 0; i < run.count; ++i) std::memset(destination + int64_t{i} * run.dstStride, 0, run.bytes);
    return;
  }
  const uint8_t* source = sourceTile + run.srcOffset;
  switch (run.bytes) {
    case 2: return copyFixed<2>(run, destination, source);
    case 4: return copyFixed<4>(run, destination, source);
    case 8: return copyFixed<8>(run, destination, source);
    case 16: return copyFixed<16>(run, destination, source);
    case 32: return copyFixed<32>(run, destination, source);
    default:
      for (uint32_t i = 0; i < run.count; ++i) {
        std::memcpy(destination + int64_t{i} * run.dstStride, source + int64_t{i} * run.srcStride, run.bytes);
      }
  }
}

}  // namespace ipusim
