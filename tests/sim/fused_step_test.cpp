// An exchange followed by a compute set runs tile by tile only when that is the same
// superstep pair (sim/fused_step.h): the plan's grouping and refusals, and the engine's
// results, which must equal the two steps run one after the other.
#include <doctest/doctest.h>

#include <memory>

#include "sim/engine.h"
#include "sim/engine_plan.h"
#include "sim/fused_step.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

ComputeSet addOn(std::initializer_list<uint32_t> tiles, uint32_t in0, uint32_t in1, uint32_t out, uint32_t bytes) {
  ComputeSet computeSet{"add", {}};
  for (uint32_t tile : tiles) computeSet.vertices.push_back({0, tile, {{{in0, bytes}}, {{in1, bytes}}, {{out, bytes}}}, {}});
  return computeSet;
}

ComputePlan planOf(const Executable& exe, const ComputeSet& computeSet) {
  std::vector<const Codelet*> codelets{CodeletRegistry::instance().find("Add<float32>")};
  return planComputeSet(exe, computeSet, codelets);
}

}  // namespace

TEST_CASE("a fused plan groups each tile's copies and keeps the tiles in order") {
  Executable exe;
  exe.target = targetPreset("ipu2");
  exe.codelets = {"Add<float32>"};
  // Copies to tiles 2, 1, 2 (one segment each), vertices on tiles 1 and 3.
  const Exchange exchange{"in", {{0, 0, 2, 0, 16}, {0, 16, 1, 0, 16}, {0, 32, 2, 16, 16}}};
  const ComputeSet computeSet = addOn({1, 3}, 0, 0, 64, 16);
  const ComputePlan computePlan = planOf(exe, computeSet);
  const auto plan = planFusedStep(exchange, planExchange(exe.target, exchange), computeSet, computePlan);
  REQUIRE(plan.has_value());
  REQUIRE(plan->tiles.size() == 3);
  CHECK(plan->tiles[0].tile == 1);
  CHECK(plan->tiles[0].work == 0);
  CHECK(plan->tiles[0].segmentCount == 1);
  CHECK(plan->tiles[1].tile == 2);
  CHECK(plan->tiles[1].work == -1);
  CHECK(plan->tiles[1].segmentCount == 2);
  CHECK(plan->segments[plan->tiles[1].firstSegment].begin == 0);
  CHECK(plan->segments[plan->tiles[1].firstSegment + 1].begin == 2);
  CHECK(plan->tiles[2].tile == 3);
  CHECK(plan->tiles[2].work == 1);
  CHECK(plan->tiles[2].segmentCount == 0);
  CHECK(plan->errors.size() == 3);
}

TEST_CASE("a fused plan is refused when a vertex could change what a later copy reads") {
  Executable exe;
  exe.target = targetPreset("ipu2");
  exe.codelets = {"Add<float32>"};
  const Exchange exchange{"in", {{1, 0, 2, 0, 16}, {0, 100, 1, 64, 4}}};
  const ExchangePlan exchangePlan = planExchange(exe.target, exchange);
  // Tile 1's vertex writes [32, 48): clear of the source [0, 16) on tile 1.
  const ComputeSet clear = addOn({1}, 64, 64, 32, 16);
  CHECK(planFusedStep(exchange, exchangePlan, clear, planOf(exe, clear)).has_value());
  // Its regions meet the source bytes [0, 16) on tile 1 (by one byte at the end).
  const ComputeSet touching = addOn({1}, 64, 64, 15, 16);
  CHECK_FALSE(planFusedStep(exchange, exchangePlan, touching, planOf(exe, touching)).has_value());
  // A copy that writes what another reads needs staging: never fused.
  const Exchange overlapping{"shift", {{1, 0, 1, 8, 16}}};
  CHECK_FALSE(planFusedStep(overlapping, planExchange(exe.target, overlapping), clear, planOf(exe, clear)).has_value());
  // Copies that alternate destinations copy by copy: the plan would be as long as the list.
  Exchange alternating{"alternating", {}};
  for (uint32_t i = 0; i < 400; ++i) alternating.copies.push_back({0, 4 * i, 2 + i % 2, 4 * i, 4});
  CHECK_FALSE(
      planFusedStep(alternating, planExchange(exe.target, alternating), clear, planOf(exe, clear)).has_value());
}

TEST_CASE("fused or not, an exchange then a compute set give the superstep's results") {
  // Tile 0 holds x at [0, 16); the exchange sends x to tiles 1..40 and gives tile 0 a copy of
  // its own y at [32, 48). Every tile then adds: tile t (1..40) sums x + x into [16, 32);
  // tile 0 writes x + y over x itself, which the copies to tiles 1..40 read before it.
  for (unsigned threads : {1u, 2u}) {
    ExecutableBuilder b(targetPreset("ipu2"));
    b.constant("x", DType::Float32, {4}, 0, 0, toBytes<float>({1, 2, 3, 4}));
    b.constant("y", DType::Float32, {4}, 0, 64, toBytes<float>({10, 20, 30, 40}));
    std::vector<Copy> copies{{0, 64, 0, 32, 16}};
    for (uint32_t tile = 1; tile <= 40; ++tile) copies.push_back({0, 0, tile, 0, 16});
    const uint32_t exchange = b.exchange("send", copies);
    const uint32_t add = b.computeSet("add");
    b.vertex(add, "Add<float32>", 0, {{0, 16}, {32, 16}, {0, 16}});
    for (uint32_t tile = 1; tile <= 40; ++tile) b.vertex(add, "Add<float32>", tile, {{0, 16}, {0, 16}, {16, 16}});
    b.exe.main = Program::sequence({Program::exchange(exchange), Program::execute(add)});

    Engine engine(threads);
    engine.load(std::make_shared<Executable>(b.exe));
    StepLog log;
    engine.setObserver(&log);
    HostBuffers inputs, outputs;
    engine.run(inputs, outputs);
    CAPTURE(threads);
    // Tile 0's vertex overlaps the copies' source, so the pair ran one step after the other.
    CHECK(fromBytes<float>(engine.readTile(0, 0, 16)) == std::vector<float>{11, 22, 33, 44});
    for (uint32_t tile : {1u, 17u, 40u}) {
      CHECK(fromBytes<float>(engine.readTile(tile, 16, 16)) == std::vector<float>{2, 4, 6, 8});
    }
    REQUIRE(log.steps.size() == 4);
    CHECK(log.steps[0].kind == StepKind::Exchange);
    CHECK(log.steps[0].bytes == 16 * 41);
    CHECK(log.steps[2].kind == StepKind::Compute);
    CHECK(log.steps[2].startCycle == log.steps[0].cycles + log.steps[1].cycles);
  }
}

TEST_CASE("a fused exchange and compute set run every tile's copies before its vertices") {
  // 300 tiles each receive their own slice of a vector from tile 0, and each adds it to itself;
  // no vertex touches tile 0's source bytes, so the pair runs tile by tile.
  constexpr uint32_t kTilesUsed = 300;
  std::vector<float> values(4 * kTilesUsed);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f;
  std::vector<uint64_t> cycles;
  for (unsigned threads : {1u, 2u}) {
    ExecutableBuilder b(targetPreset("ipu2"));
    b.constant("v", DType::Float32, {4 * kTilesUsed}, 0, 0, toBytes(values));
    std::vector<Copy> copies;
    for (uint32_t tile = 1; tile <= kTilesUsed; ++tile) copies.push_back({0, 16 * (tile - 1), tile, 0, 16});
    const uint32_t exchange = b.exchange("scatter", copies);
    const uint32_t add = b.computeSet("double");
    for (uint32_t tile = 1; tile <= kTilesUsed; ++tile) b.vertex(add, "Add<float32>", tile, {{0, 16}, {0, 16}, {16, 16}});
    b.exe.main = Program::sequence({Program::exchange(exchange), Program::execute(add)});
    const ComputePlan computePlan = planOf(b.exe, b.exe.computeSets[add]);
    REQUIRE(planFusedStep(b.exe.exchanges[exchange], planExchange(b.exe.target, b.exe.exchanges[exchange]),
                          b.exe.computeSets[add], computePlan)
                .has_value());

    Engine engine(threads);
    engine.load(std::make_shared<Executable>(b.exe));
    StepLog log;
    engine.setObserver(&log);
    HostBuffers inputs, outputs;
    cycles.push_back(engine.run(inputs, outputs));
    CAPTURE(threads);
    for (uint32_t tile : {1u, 150u, 300u}) {
      const float first = static_cast<float>(4 * (tile - 1)) * 0.5f;
      CHECK(fromBytes<float>(engine.readTile(tile, 16, 16)) ==
            std::vector<float>{2 * first, 2 * first + 1, 2 * first + 2, 2 * first + 3});
    }
    REQUIRE(log.steps.size() == 4);
    CHECK(log.steps[0].name == "scatter");
    CHECK(log.steps[1].kind == StepKind::Sync);
    CHECK(log.steps[2].name == "double");
    CHECK(log.steps[3].kind == StepKind::Sync);
  }
  CHECK(cycles[0] == cycles[1]);
}
