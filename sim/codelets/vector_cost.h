// The cycle model of vector-loop codelets on one worker context, after poplibs' estimators
// for its 2D elementwise vertices (docs/cost-model.md):
//   cycles = vertexCycles + sum over regions r (regionCycles + ceil(n_r / lanes) * cyclesPerVector)
// where n_r is the element count of region r of the measured field and lanes comes from the
// Target, never from a literal.
#pragma once
#include <cstdint>
#include <functional>

#include "sim/dtype.h"
#include "sim/executable.h"

namespace ipusim::codelets {

enum class Lanes : uint8_t { One, Fp32, Fp16 };

struct VectorCost {
  uint32_t vertexCycles = 0;     // entry, field unpacking, exit
  uint32_t regionCycles = 0;     // outer-loop work per region
  uint32_t cyclesPerVector = 0;  // inner-loop cycles per vector of `lanes` elements
  Lanes lanes = Lanes::One;
};

uint32_t laneCount(Lanes lanes, const Target& target);

// The natural vector of a dtype: fp32 and fp16 use the vector unit, everything else one lane.
Lanes lanesOf(DType t);

// Cycle estimate of a vertex whose work is measured by field `field` with elements of
// `elementBytes` bytes. A vertex without that field costs vertexCycles.
std::function<uint64_t(const Vertex&, const Target&)> vectorCycles(VectorCost cost, size_t field,
                                                                   size_t elementBytes);

}  // namespace ipusim::codelets
