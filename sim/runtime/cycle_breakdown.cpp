#include "sim/runtime/cycle_breakdown.h"

namespace ipusim {

CycleBreakdown& CycleBreakdown::operator+=(const CycleBreakdown& other) {
  load += other.load;
  stream += other.stream;
  switching += other.switching;
  execute += other.execute;
  return *this;
}

void CycleBreakdownObserver::onStep(const StepRecord& step) {
  switch (step.kind) {
    case StepKind::Load: cycles_.load += step.cycles; break;
    case StepKind::Stream: cycles_.stream += step.cycles; break;
    case StepKind::Switch: cycles_.switching += step.cycles; break;
    case StepKind::Compute:
    case StepKind::Exchange:
    case StepKind::Sync: cycles_.execute += step.cycles; break;
  }
}

}  // namespace ipusim
