// Percentiles by linear interpolation (numpy's default), on data with known answers.
#include <doctest/doctest.h>

#include <numeric>
#include <stdexcept>
#include <vector>

#include "sim/runtime/latency_stats.h"

using namespace ipusim;

TEST_CASE("percentiles interpolate between closest ranks like numpy.percentile") {
  // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 90, 99, 100]) = [1, 1.75, 2.5, 3.7, 3.97, 4]
  const std::vector<double> four{1, 2, 3, 4};
  CHECK(percentile(four, 0) == 1);
  CHECK(percentile(four, 25) == 1.75);
  CHECK(percentile(four, 50) == 2.5);
  CHECK(percentile(four, 90) == doctest::Approx(3.7).epsilon(1e-15));
  CHECK(percentile(four, 99) == doctest::Approx(3.97).epsilon(1e-15));
  CHECK(percentile(four, 100) == 4);

  // 1..100: position p/100 x 99, so p50 = 50.5, p90 = 90.1, p99 = 99.01.
  std::vector<double> hundred(100);
  std::iota(hundred.begin(), hundred.end(), 1.0);
  CHECK(percentile(hundred, 50) == 50.5);
  CHECK(percentile(hundred, 90) == doctest::Approx(90.1).epsilon(1e-15));
  CHECK(percentile(hundred, 99) == doctest::Approx(99.01).epsilon(1e-15));

  const std::vector<double> one{7};
  CHECK(percentile(one, 0) == 7);
  CHECK(percentile(one, 99) == 7);
  CHECK_THROWS_AS(percentile(std::vector<double>{}, 50), std::invalid_argument);
}

TEST_CASE("a latency summary: mean, p50, p90, p99 and max of unsorted values") {
  // 99 requests of 4 us and one of 500,000 us: the one slow request moves the mean and the
  // max, p99 only partly (position 98.01: 1% of the way from 4 to 500,000), p50 and p90 not.
  std::vector<double> latencies(99, 4.0);
  latencies.insert(latencies.begin() + 17, 500000.0);
  const LatencySummary s = summarizeLatencies(latencies);
  CHECK(s.count == 100);
  CHECK(s.mean == doctest::Approx((99 * 4.0 + 500000.0) / 100).epsilon(1e-15));
  CHECK(s.p50 == 4);
  CHECK(s.p90 == 4);
  CHECK(s.p99 == doctest::Approx(4 + 0.01 * (500000 - 4)).epsilon(1e-12));
  CHECK(s.max == 500000);

  // numpy.percentile([5, 1, 4, 2, 3], [50, 90, 99]) = [3, 4.6, 4.96]
  const LatencySummary five = summarizeLatencies(std::vector<double>{5, 1, 4, 2, 3});
  CHECK(five.mean == 3);
  CHECK(five.p50 == 3);
  CHECK(five.p90 == doctest::Approx(4.6).epsilon(1e-15));
  CHECK(five.p99 == doctest::Approx(4.96).epsilon(1e-15));
  CHECK(five.max == 5);
  CHECK_THROWS_AS(summarizeLatencies(std::vector<double>{}), std::invalid_argument);
}

TEST_CASE("throughput is requests over the span") {
  CHECK(throughputPerSecond(1000, 0.5) == 2000);
  CHECK(throughputPerSecond(3, 0) == 0);
}
