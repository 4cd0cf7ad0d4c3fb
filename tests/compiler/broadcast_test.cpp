#include <doctest/doctest.h>

#include <vector>

#include "compiler/compiler.h"
#include "compiler/lowering/broadcast.h"

using namespace ipusim;

namespace {
std::vector<BroadcastRun> runs(const Shape& src, const Shape& out, uint64_t first, uint64_t count) {
  std::vector<BroadcastRun> r;
  forEachBroadcastRun(src, out, first, count, [&](const BroadcastRun& run) { r.push_back(run); });
  return r;
}
}  // namespace

TEST_CASE("broadcastShapes follows numpy") {
  CHECK(broadcastShapes({2, 3}, {3}, "t") == Shape{2, 3});
  CHECK(broadcastShapes({2, 1}, {1, 4}, "t") == Shape{2, 4});
  CHECK(broadcastShapes({}, {5}, "t") == Shape{5});
  CHECK(broadcastShapes({3, 1, 2}, {4, 1}, "t") == Shape{3, 4, 2});
  CHECK_THROWS_WITH_AS(broadcastShapes({2, 3}, {2}, "Add node"),
                       "Add node: shapes [2,3] and [2] do not broadcast", CompileError);
}

TEST_CASE("a row vector broadcast over rows reads the same run per row") {
  auto r = runs({3}, {2, 3}, 0, 6);
  REQUIRE(r.size() == 2);
  CHECK(r[0].outFirst == 0);
  CHECK(r[0].srcFirst == 0);
  CHECK(r[0].count == 3);
  CHECK(r[1].outFirst == 3);
  CHECK(r[1].srcFirst == 0);
  CHECK(r[1].count == 3);
}

TEST_CASE("a column broadcast over columns merges only contiguous reads") {
  auto r = runs({2, 1}, {2, 3}, 1, 4);  // output elements 1..4 read 0, 0, 1, 1
  REQUIRE(r.size() == 3);
  CHECK(r[0].outFirst == 1);
  CHECK(r[0].count == 1);
  CHECK(r[1].outFirst == 2);  // outputs 2..3 read sources 0..1: still one run
  CHECK(r[1].srcFirst == 0);
  CHECK(r[1].count == 2);
  CHECK(r[2].outFirst == 4);
  CHECK(r[2].srcFirst == 1);
  CHECK(r[2].count == 1);
}

TEST_CASE("a same-shape source is one run and a scalar is per element") {
  auto same = runs({4, 5}, {4, 5}, 3, 12);
  REQUIRE(same.size() == 1);
  CHECK(same[0].srcFirst == 3);
  CHECK(same[0].count == 12);
  auto scalar = runs({}, {3}, 0, 3);
  REQUIRE(scalar.size() == 3);
  for (const auto& run : scalar) CHECK(run.srcFirst == 0);
}
