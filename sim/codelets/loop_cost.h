// Inner-loop costs in the form of poplibs' per-op tables (OpPerformanceInfo in
// lib/popops/popopsCycleEstimators.hpp): an inner loop takes `cycles` to process either the
// target's natural vector of the dtype (lanes from the Target) or a fixed number of
// elements (poplibs' loop unroll factor, or 1 for per-element loops). Table figures with
// their loop overheads folded in are listed in docs/cost-model.md.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/codelets/vector_cost.h"
#include "sim/dtype.h"
#include "sim/executable.h"

namespace ipusim::codelets {

struct LoopCost {
  uint32_t cycles = 0;
  uint32_t elementsPerLoop = 1;  // 0: the natural vector of the dtype (Target lanes)
};

constexpr LoopCost perVector(uint32_t cycles) { return {cycles, 0}; }
constexpr LoopCost perElements(uint32_t cycles, uint32_t elements = 1) { return {cycles, elements}; }

// One op's inner-loop cost per dtype family of poplibs' tables; 8-bit integers run in
// 32-bit registers and take the 32-bit figures (assumption, docs/cost-model.md).
struct OpLoopCosts {
  LoopCost float32, float16, int32, uint32, int64, boolean;
  LoopCost of(DType t) const;
};

// The same cost for every dtype (ops whose figure does not depend on the type).
constexpr OpLoopCosts uniformCost(LoopCost cost) { return {cost, cost, cost, cost, cost, cost}; }

// Cycles of the inner loops over `regions` (elements of `elementBytes`), each region paying
// `regionCycles` of outer-loop work plus ceil(n / elements per loop) x cycles x `repeats`.
uint64_t loopCycles(const std::vector<Region>& regions, size_t elementBytes, LoopCost cost, DType dtype,
                    uint32_t regionCycles, uint32_t repeats, const Target& target);

// A codelet's cycle estimate: vertexCycles + loopCycles over the last field (the output),
// whose elements are `outputBytes` wide; `dtype` picks the natural vector.
std::function<uint64_t(const Vertex&, const Target&)> outputLoopCycles(uint32_t vertexCycles, uint32_t regionCycles,
                                                                       LoopCost cost, DType dtype,
                                                                       size_t outputBytes);

}  // namespace ipusim::codelets
