// An exchange's plan (sim/engine_plan.h): per-tile traffic and cycles by the cost model's
// formula, and whether its copies need staging (a copy reads bytes that a copy writes).
#include <doctest/doctest.h>

#include "sim/engine_plan.h"
#include "sim/target.h"

using namespace ipusim;

TEST_CASE("an exchange plan sums each tile's traffic and times the busiest tile") {
  const Target target = targetPreset("ipu2");
  // Tile 7 sends 100 + 60, tile 2 receives 100 + 30, tile 9 only appears in an empty copy.
  const Exchange exchange{"x", {{7, 0, 2, 0, 100}, {7, 100, 4, 0, 60}, {3, 0, 2, 100, 30}, {9, 0, 5, 0, 0}}};
  const ExchangePlan plan = planExchange(target, exchange);
  CHECK(plan.bytes == 190);
  REQUIRE(plan.traffic.size() == 6);
  const uint32_t tiles[] = {2, 3, 4, 5, 7, 9};
  const uint64_t sent[] = {0, 30, 0, 0, 160, 0};
  const uint64_t received[] = {130, 0, 60, 0, 0, 0};
  for (size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    CHECK(plan.traffic[i].tile == tiles[i]);
    CHECK(plan.traffic[i].sent == sent[i]);
    CHECK(plan.traffic[i].received == received[i]);
  }
  const uint64_t perCycle = target.exchangeBytesPerCycle;
  CHECK(plan.cycles == target.exchangeFixedCycles + (160 + perCycle - 1) / perCycle);
  CHECK_FALSE(plan.needsStaging);
}

TEST_CASE("an exchange needs staging exactly when a copy reads bytes that a copy writes on the same tile") {
  const Target target = targetPreset("ipu2");
  auto staged = [&](std::vector<Copy> copies) { return planExchange(target, Exchange{"x", std::move(copies)}).needsStaging; };
  // Tile 1 reads [0, 16) and has [16, 32) written: adjacent, not overlapping.
  CHECK_FALSE(staged({{1, 0, 2, 0, 16}, {3, 0, 1, 16, 16}}));
  // One byte of overlap, whichever copy comes first.
  CHECK(staged({{1, 0, 2, 0, 16}, {3, 0, 1, 15, 16}}));
  CHECK(staged({{3, 0, 1, 15, 16}, {1, 0, 2, 0, 16}}));
  // A copy within one tile that shifts its bytes.
  CHECK(staged({{1, 0, 1, 8, 16}}));
  // The same offsets on different tiles do not meet.
  CHECK_FALSE(staged({{1, 0, 2, 0, 16}, {3, 0, 4, 0, 16}}));
  // Two reads of the same bytes, or two writes to the same bytes: no read meets a write.
  CHECK_FALSE(staged({{1, 0, 2, 0, 16}, {1, 0, 3, 0, 16}}));
  CHECK_FALSE(staged({{1, 0, 2, 0, 16}, {3, 0, 2, 0, 16}}));
  // An empty copy reads and writes nothing.
  CHECK_FALSE(staged({{1, 0, 2, 0, 16}, {3, 0, 1, 4, 0}}));
  // A long read span hides a later write that starts inside it, behind other spans.
  CHECK(staged({{5, 0, 6, 0, 100}, {5, 10, 6, 200, 4}, {7, 0, 5, 50, 4}}));
}
