// Where the cycles of a run (or a load) went, by the kind of step that spent them.
#pragma once
#include <cstdint>

#include "sim/engine.h"

namespace ipusim {

struct CycleBreakdown {
  uint64_t load = 0;       // Load steps: the image over the host link plus the fixed overhead
  uint64_t stream = 0;     // host streams (each with its host sync)
  uint64_t switching = 0;  // Switch steps: the sync and broadcast of the index
  uint64_t execute = 0;    // compute, exchange and sync supersteps

  uint64_t total() const { return load + stream + switching + execute; }
  CycleBreakdown& operator+=(const CycleBreakdown& other);
  bool operator==(const CycleBreakdown&) const = default;
};

// Adds every step the engine reports to the bucket of its kind.
class CycleBreakdownObserver final : public StepObserver {
 public:
  void onStep(const StepRecord& step) override;
  const CycleBreakdown& cycles() const { return cycles_; }
  void reset() { cycles_ = {}; }

 private:
  CycleBreakdown cycles_;
};

}  // namespace ipusim
