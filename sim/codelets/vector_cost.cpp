#include "sim/codelets/vector_cost.h"

#include <algorithm>

namespace ipusim::codelets {

uint32_t laneCount(Lanes lanes, const Target& target) {
  switch (lanes) {
    case Lanes::Fp32: return target.vectorFp32Lanes;
    case Lanes::Fp16: return target.vectorFp16Lanes;
    case Lanes::One: break;
  }
  return 1;
}

Lanes lanesOf(DType t) {
  if (t == DType::Float32) return Lanes::Fp32;
  if (t == DType::Float16) return Lanes::Fp16;
  return Lanes::One;
}

std::function<uint64_t(const Vertex&, const Target&)> vectorCycles(VectorCost cost, size_t field,
                                                                   size_t elementBytes) {
  return [cost, field, elementBytes](const Vertex& vertex, const Target& target) -> uint64_t {
    uint64_t cycles = cost.vertexCycles;
    if (field >= vertex.fields.size()) return cycles;
    const uint64_t lanes = std::max<uint32_t>(laneCount(cost.lanes, target), 1);
    for (const Region& region : vertex.fields[field]) {
      const uint64_t elements = region.bytes / elementBytes;
      cycles += cost.regionCycles + (elements + lanes - 1) / lanes * cost.cyclesPerVector;
    }
    return cycles;
  };
}

}  // namespace ipusim::codelets
