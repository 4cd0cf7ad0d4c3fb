#include "compiler/lowering/tile_mapping.h"

#include <algorithm>

namespace ipusim {

uint64_t vectorGrain(DType dtype, const Target& target) {
  switch (dtype) {
    case DType::Float32: return target.vectorFp32Lanes;
    case DType::Float16: return target.vectorFp16Lanes;
    default: return std::max<uint64_t>(1, 4 / dtypeSize(dtype));
  }
}

std::vector<TileSpan> linearMapping(uint64_t elements, DType dtype, const Target& target) {
  std::vector<TileSpan> spans;
  if (elements == 0) return spans;
  const uint64_t grain = vectorGrain(dtype, target);
  const uint64_t grains = (elements + grain - 1) / grain;
  const uint64_t minGrainsPerTile =
      std::max<uint64_t>(1, (kMinBytesPerTile / dtypeSize(dtype) + grain - 1) / grain);
  const uint64_t tiles = std::clamp<uint64_t>(grains / minGrainsPerTile, 1, target.tiles);
  const uint64_t grainsPerTile = (grains + tiles - 1) / tiles;
  uint64_t first = 0;
  for (uint32_t tile = 0; tile < tiles && first < elements; ++tile) {
    uint64_t count = std::min(grainsPerTile * grain, elements - first);
    spans.push_back({tile, first, count});
    first += count;
  }
  return spans;
}

std::vector<TileSpan> splitForWorkers(const TileSpan& span, DType dtype, const Target& target) {
  std::vector<TileSpan> chunks;
  if (span.count == 0) return chunks;
  const uint64_t grain = vectorGrain(dtype, target);
  const uint64_t grains = (span.count + grain - 1) / grain;
  const uint64_t workers = std::min<uint64_t>(target.workerContexts, grains);
  const uint64_t grainsPerWorker = (grains + workers - 1) / workers;
  for (uint64_t first = span.first, end = span.first + span.count; first < end;) {
    uint64_t count = std::min(grainsPerWorker * grain, end - first);
    chunks.push_back({span.tile, first, count});
    first += count;
  }
  return chunks;
}

}  // namespace ipusim
