// Summary statistics of request latencies (docs/compare.md).
#pragma once
#include <cstdint>
#include <span>

namespace ipusim {

// Percentile `p` (0..100) of `sorted` (ascending, non-empty) by linear interpolation between
// closest ranks, as numpy.percentile's default ("linear"): the value at position
// p/100 x (n - 1), interpolated between the two neighbouring order statistics.
double percentile(std::span<const double> sorted, double p);

struct LatencySummary {
  uint64_t count = 0;
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

// Throws std::invalid_argument for an empty list. Values keep their unit.
LatencySummary summarizeLatencies(std::span<const double> values);

// Requests per second over `spanSeconds`, the time from the first arrival to the last finish;
// 0 when the span is not positive.
double throughputPerSecond(uint64_t requests, double spanSeconds);

}  // namespace ipusim
