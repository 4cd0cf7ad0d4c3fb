// A trace as Chrome trace-event JSON, which the Perfetto UI (ui.perfetto.dev) and
// chrome://tracing open: one track per step kind with every step as a slice, a track of
// runs, and the requests of `compare` as slices on a track per strategy.
#pragma once
#include <string>

#include "traces/trace_schema.h"

namespace ipusim {

// Times are microseconds at the target's clock. Runs are laid end to end: run r starts where
// the steps of run r-1 ended (loads not recorded as steps take no room). Requests keep their
// own simulated times in a process of their own.
std::string perfettoJson(const Trace& trace);

}  // namespace ipusim
