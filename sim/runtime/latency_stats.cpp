#include "sim/runtime/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace ipusim {

double percentile(std::span<const double> sorted, double p) {
  if (sorted.empty()) throw std::invalid_argument("percentile of no values");
  const double position = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  if (below + 1 >= sorted.size()) return sorted.back();
  const double fraction = position - static_cast<double>(below);
  const double a = sorted[below], b = sorted[below + 1], diff = b - a;
  // numpy's _lerp: interpolate from the nearer end, so the result is exact at both ends.
  return fraction >= 0.5 ? b - diff * (1 - fraction) : a + diff * fraction;
}

LatencySummary summarizeLatencies(std::span<const double> values) {
  if (values.empty()) throw std::invalid_argument("latency summary of no requests");
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  LatencySummary summary;
  summary.count = sorted.size();
  // Summed in ascending order: small latencies are not lost next to large ones.
  double sum = 0;
  for (double v : sorted) sum += v;
  summary.mean = sum / static_cast<double>(sorted.size());
  summary.p50 = percentile(sorted, 50);
  summary.p90 = percentile(sorted, 90);
  summary.p99 = percentile(sorted, 99);
  summary.max = sorted.back();
  return summary;
}

double throughputPerSecond(uint64_t requests, double spanSeconds) {
  if (!(spanSeconds > 0)) return 0;
  return static_cast<double>(requests) / spanSeconds;
}

}  // namespace ipusim
