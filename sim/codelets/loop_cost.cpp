#include "sim/codelets/loop_cost.h"

#include <algorithm>

namespace ipusim::codelets {

LoopCost OpLoopCosts::of(DType t) const {
  switch (t) {
    case DType::Float32: return float32;
    case DType::Float16: return float16;
    case DType::Int8:
    case DType::Int32: return int32;
    case DType::UInt8:
    case DType::UInt32: return uint32;
    case DType::Int64: return int64;
    case DType::Bool: break;
  }
  return boolean;
}

uint64_t loopCycles(const std::vector<Region>& regions, size_t elementBytes, LoopCost cost, DType dtype,
                    uint32_t regionCycles, uint32_t repeats, const Target& target) {
  const uint64_t perLoop =
      std::max<uint64_t>(cost.elementsPerLoop == 0 ? laneCount(lanesOf(dtype), target) : cost.elementsPerLoop, 1);
  uint64_t cycles = 0;
  for (const Region& region : regions) {
    const uint64_t elements = region.bytes / elementBytes;
    cycles += regionCycles + (elements + perLoop - 1) / perLoop * cost.cycles * repeats;
  }
  return cycles;
}

std::function<uint64_t(const Vertex&, const Target&)> outputLoopCycles(uint32_t vertexCycles, uint32_t regionCycles,
                                                                       LoopCost cost, DType dtype,
                                                                       size_t outputBytes) {
  return [=](const Vertex& vertex, const Target& target) -> uint64_t {
    if (vertex.fields.empty()) return vertexCycles;
    return vertexCycles + loopCycles(vertex.fields.back(), outputBytes, cost, dtype, regionCycles, 1, target);
  };
}

}  // namespace ipusim::codelets
