// Exchange copies as strided runs (sim/copy_runs.h): the grouping on known copies, each run
// doing what its copies do one by one, and an exchange of single elements run by the engine
// as runs, with the same bytes and cycles on one and two host threads.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <numeric>

#include "sim/copy_runs.h"
#include "sim/engine.h"
#include "sim/engine_plan.h"
#include "sim/fused_step.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

TEST_CASE("copies that continue each other by fixed strides become one run") {
  const std::vector<Copy> copies{
      // A subsampling: every other 2-byte element, packed.
      {5, 100, 1, 0, 2}, {5, 104, 1, 2, 2}, {5, 108, 1, 4, 2}, {5, 112, 1, 6, 2},
      // Another source tile: a new run, here backwards through the source.
      {6, 40, 1, 8, 4}, {6, 32, 1, 12, 4}, {6, 24, 1, 16, 4},
      // Sizes that differ, then a lone copy.
      {6, 0, 1, 20, 8}, {6, 8, 1, 28, 6}};
  std::vector<CopyRun> runs;
  appendCopyRuns(copies, runs);
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].srcTile == 5);
  CHECK(runs[0].srcOffset == 100);
  CHECK(runs[0].dstOffset == 0);
  CHECK(runs[0].bytes == 2);
  CHECK(runs[0].count == 4);
  CHECK(runs[0].srcStride == 4);
  CHECK(runs[0].dstStride == 2);
  CHECK(runs[1].srcTile == 6);
  CHECK(runs[1].count == 3);
  CHECK(runs[1].srcStride == -8);
  CHECK(runs[1].dstStride == 4);
  CHECK(runs[2].count == 1);
  CHECK(runs[2].bytes == 8);
  CHECK(runs[3].count == 1);
  CHECK(runs[3].dstOffset == 28);
  CHECK(runs[3].bytes == 6);
}

TEST_CASE("a run writes what its copies write one by one, from zeros for an untouched tile") {
  std::vector<uint8_t> source(256);
  std::iota(source.begin(), source.end(), uint8_t{0});
  for (uint32_t bytes : {2u, 4u, 6u, 8u, 16u, 32u}) {
    CAPTURE(bytes);
    // Backwards through the source, forwards through the destination, with gaps.
    std::vector<Copy> copies;
    for (uint32_t i = 0; i < 5; ++i) copies.push_back({0, 200 - 40 * i, 1, 3 + i * (bytes + 1), bytes});
    std::vector<CopyRun> runs;
    appendCopyRuns(copies, runs);
    REQUIRE(runs.size() == 1);
    std::vector<uint8_t> expected(256, 0xEE), got(256, 0xEE);
    for (const Copy& copy : copies) std::memcpy(expected.data() + copy.dstOffset, source.data() + copy.srcOffset, copy.bytes);
    performCopyRun(runs[0], got.data(), source.data());
    CHECK(got == expected);
    std::vector<uint8_t> zeros(256, 0xEE);
    for (const Copy& copy : copies) std::memset(expected.data() + copy.dstOffset, 0, copy.bytes);
    performCopyRun(runs[0], zeros.data(), nullptr);
    CHECK(zeros == expected);
  }
}

TEST_CASE("an exchange of single elements runs as strided runs with the superstep's results") {
  // Tile 0 holds 64 tiles' worth of 8 halves (bit patterns); tile t (1..64) receives
  // every other element of its slice, one 2-byte copy each, packed: 4 copies per tile, one run.
  constexpr uint32_t kTilesUsed = 64;
  std::vector<uint16_t> values(8 * kTilesUsed);
  std::iota(values.begin(), values.end(), uint16_t{1000});
  std::vector<Copy> copies;
  for (uint32_t tile = 1; tile <= kTilesUsed; ++tile) {
    for (uint32_t e = 0; e < 4; ++e) copies.push_back({0, 16 * (tile - 1) + 4 * e, tile, 2 * e, 2});
  }
  const Exchange exchange{"subsample", copies};
  const Target target = targetPreset("ipu2");
  const auto plan = planExchangeByTile(exchange, planExchange(target, exchange));
  REQUIRE(plan.has_value());
  CHECK(plan->tiles.size() == kTilesUsed);
  CHECK(plan->runs.size() == kTilesUsed);
  CHECK(plan->segments.size() == kTilesUsed);

  std::vector<uint64_t> cycles;
  for (unsigned threads : {1u, 2u}) {
    ExecutableBuilder b(target);
    b.constant("v", DType::Float16, {8 * kTilesUsed}, 0, 0, toBytes(values));
    const uint32_t index = b.exchange("subsample", copies);
    b.exe.main = Program::sequence({Program::exchange(index)});
    Engine engine(threads);
    engine.load(std::make_shared<Executable>(b.exe));
    HostBuffers inputs, outputs;
    cycles.push_back(engine.run(inputs, outputs));
    CAPTURE(threads);
    for (uint32_t tile : {1u, 33u, 64u}) {
      const auto first = static_cast<uint16_t>(1000 + 8 * (tile - 1));
      CHECK(fromBytes<uint16_t>(engine.readTile(tile, 0, 8)) ==
            std::vector<uint16_t>{first, static_cast<uint16_t>(first + 2), static_cast<uint16_t>(first + 4),
                                  static_cast<uint16_t>(first + 6)});
    }
  }
  CHECK(cycles[0] == cycles[1]);
}
