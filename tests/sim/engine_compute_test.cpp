#include <doctest/doctest.h>

#include <memory>

#include "sim/engine.h"
#include "sim/engine_plan.h"
#include "sim/error.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

std::vector<float> iota(size_t count, float start) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = start + static_cast<float>(i);
  return values;
}

}  // namespace

TEST_CASE("a compute set over several tiles and workers: values and cycles") {
  ExecutableBuilder b(targetPreset("ipu2"));
  // Tile 0: seven Add<float32> vertices of 8 elements each over a[56] + c[56] -> bytes 448.
  b.constant("a0", DType::Float32, {56}, 0, 0, toBytes(iota(56, 0)));
  b.constant("c0", DType::Float32, {56}, 0, 224, toBytes(iota(56, 100)));
  // Tile 1: one vertex whose fields have two regions of 50 elements.
  b.constant("a1", DType::Float32, {100}, 1, 0, toBytes(iota(100, 1000)));
  b.constant("c1", DType::Float32, {100}, 1, 400, toBytes(iota(100, 0.5f)));
  const uint32_t cs = b.computeSet("add");
  for (uint32_t k = 0; k < 7; ++k) {
    b.vertex(cs, "Add<float32>", 0, {{32 * k, 32}, {224 + 32 * k, 32}, {448 + 32 * k, 32}});
  }
  Vertex wide;
  wide.codelet = b.codelet("Add<float32>");
  wide.tile = 1;
  wide.fields = {{{0, 200}, {200, 200}}, {{400, 200}, {600, 200}}, {{800, 200}, {1000, 200}}};
  b.exe.computeSets[cs].vertices.push_back(wide);
  b.exe.main = Program::execute(cs);

  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  StepLog log(true);
  engine.setObserver(&log);
  HostBuffers inputs, outputs;
  // Per vertex on one worker: 5 + ceil(n / 2 lanes) * 3.
  //   tile 0: 7 vertices of 8 elements, 17 cycles each; 6 workers -> worker 0 runs two: 34.
  //           11 * 7 + 6 * 34 = 281
  //   tile 1: one vertex of 2 x 50 elements: 5 + 25 * 3 + 25 * 3 = 155; 11 + 6 * 155 = 941
  const uint64_t cycles = engine.run(inputs, outputs);
  CHECK(cycles == 941 + 90);
  REQUIRE(log.steps.size() == 2);
  CHECK(log.steps[0].kind == StepKind::Compute);
  CHECK(log.steps[0].name == "add");
  CHECK(log.steps[0].startCycle == 0);
  CHECK(log.steps[0].cycles == 941);
  REQUIRE(log.steps[0].tileCycles.size() == 1472);
  CHECK(log.steps[0].tileCycles[0] == 281);
  CHECK(log.steps[0].tileCycles[1] == 941);
  CHECK(log.steps[0].tileCycles[2] == 0);
  CHECK(log.steps[1].kind == StepKind::Sync);
  CHECK(log.steps[1].startCycle == 941);
  CHECK(log.steps[1].cycles == 90);

  const auto sum0 = fromBytes<float>(engine.readTile(0, 448, 224));
  for (size_t i = 0; i < 56; ++i) CHECK(sum0[i] == static_cast<float>(2 * i + 100));
  const auto sum1 = fromBytes<float>(engine.readTile(1, 800, 400));
  for (size_t i = 0; i < 100; ++i) CHECK(sum1[i] == static_cast<float>(2 * i) + 1000.5f);

  // The same run again gives the same cycles (nothing is cached across runs but memory).
  log.steps.clear();
  CHECK(engine.run(inputs, outputs) == 1031);
}

TEST_CASE("consecutive elementwise vertices run as one host call compute what they compute in turn") {
  // Tile 0: a chain of four Add<float32> vertices; vertex j adds y[4j..4j+4) to the previous
  // vertex's output (its in0 is the bytes vertex j - 1 wrote), so every field's regions are
  // contiguous from one vertex to the next and in0 overlaps out; the calls must not merge the
  // regions into one. A Relu, then an Add again, start calls of their own.
  ExecutableBuilder b(targetPreset("ipu2"));
  b.constant("x", DType::Float32, {4}, 0, 0, toBytes<float>({1, 2, 3, 4}));
  b.constant("y", DType::Float32, {16}, 0, 512, toBytes(iota(16, 10)));
  const uint32_t cs = b.computeSet("chain");
  for (uint32_t j = 0; j < 4; ++j) {
    b.vertex(cs, "Add<float32>", 0, {{16 * j, 16}, {512 + 16 * j, 16}, {16 * (j + 1), 16}});
  }
  b.vertex(cs, "Relu<float32>", 0, {{64, 16}, {256, 16}});
  b.vertex(cs, "Add<float32>", 0, {{256, 16}, {256, 16}, {272, 16}});
  b.exe.main = Program::execute(cs);
  const ComputePlan plan = planComputeSet(
      b.exe, b.exe.computeSets[cs],
      std::vector<const Codelet*>{CodeletRegistry::instance().find("Add<float32>"),
                                  CodeletRegistry::instance().find("Relu<float32>")});
  REQUIRE(plan.tiles.size() == 1);
  // Four Adds in one call, the Relu, the last Add: three calls; cycles as six vertices.
  CHECK(plan.tiles[0].vertices.size() == 3);
  CHECK(plan.tiles[0].vertices[0].vertices.size() == 4);

  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  HostBuffers inputs, outputs;
  engine.run(inputs, outputs);
  // out_j = x + y[0..4) + y[4..8) + ... + y[4j..4j+4): y[k] = 10 + k.
  std::vector<float> expected{1, 2, 3, 4};
  for (uint32_t j = 0; j < 4; ++j) {
    for (uint32_t i = 0; i < 4; ++i) expected[i] += static_cast<float>(10 + 4 * j + i);
    CHECK(fromBytes<float>(engine.readTile(0, 16 * (j + 1), 16)) == expected);
  }
  CHECK(fromBytes<float>(engine.readTile(0, 272, 16)) ==
        std::vector<float>{2 * expected[0], 2 * expected[1], 2 * expected[2], 2 * expected[3]});
}

TEST_CASE("tile compute cycles: launch, barrel-scheduled workers, AMP") {
  const Target mk2 = targetPreset("ipu2");
  // Greedy in order to the least-loaded worker: 100, 50, 50, 50, 50, 50 fill the six
  // workers; 40 goes to a 50-worker (90); then 30 to the next 50-worker (80).
  const std::vector<uint64_t> workers = {100, 50, 50, 50, 50, 50, 40, 30};
  CHECK(tileComputeCycles(mk2, workers, 0, workers.size()) == 11 * 8 + 6 * 100);
  const std::vector<uint64_t> moreWork = {10, 10, 10, 10, 10, 10, 10};
  CHECK(tileComputeCycles(mk2, moreWork, 0, 7) == 11 * 7 + 6 * 20);
  // AMP vertices add their own cycles once, serially.
  CHECK(tileComputeCycles(mk2, moreWork, 500, 9) == 11 * 9 + 6 * 20 + 500);
  CHECK(tileComputeCycles(mk2, {}, 0, 0) == 0);
}

TEST_CASE("Repeat runs its body count times and memory persists across runs") {
  ExecutableBuilder b(targetPreset("ipu2"));
  b.variable("acc", DType::Int32, {1}, 3, 0);
  b.constant("one", DType::Int32, {1}, 3, 8, toBytes<int32_t>({1}));
  const uint32_t accumulator = b.variable("acc_view", DType::Int32, {1}, 3, 0);
  const uint32_t cs = b.computeSet("increment");
  b.vertex(cs, "Add<int32>", 3, {{0, 4}, {8, 4}, {0, 4}});
  const uint32_t out = b.stream("acc", StreamDirection::DeviceToHost, accumulator);
  b.exe.main = Program::sequence({Program::repeat(5, Program::execute(cs)), Program::streamCopy(out)});

  Engine engine(2);
  engine.load(std::make_shared<Executable>(b.exe));
  StepLog log;
  engine.setObserver(&log);
  HostBuffers inputs, outputs;
  // Per iteration: 11 + 6 * (5 + 7) = 83 compute + 90 sync.
  const uint64_t streamCycles = b.exe.target.hostTransferCycles(4) + 90;
  CHECK(engine.run(inputs, outputs) == 5 * (83 + 90) + streamCycles);
  CHECK(fromBytes<int32_t>(outputs.at("acc")) == std::vector<int32_t>{5});
  CHECK(log.steps.size() == 11);
  CHECK(log.steps[9].startCycle == 4 * 173 + 83);
  engine.run(inputs, outputs);
  CHECK(fromBytes<int32_t>(outputs.at("acc")) == std::vector<int32_t>{10});
}

TEST_CASE("an explicit Sync charges one sync") {
  ExecutableBuilder b(targetPreset("ipu21"));
  b.exe.main = Program::sequence({Program::sync(), Program::sync()});
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  StepLog log;
  engine.setObserver(&log);
  HostBuffers inputs, outputs;
  CHECK(engine.run(inputs, outputs) == 180);
  REQUIRE(log.steps.size() == 2);
  CHECK(log.steps[1].kind == StepKind::Sync);
  CHECK(log.steps[1].startCycle == 90);
}

TEST_CASE("a kernel error names the compute set and tile") {
  ExecutableBuilder b(targetPreset("ipu2"));
  const uint32_t cs = b.computeSet("broken");
  b.vertex(cs, "Add<float32>", 4, {{0, 8}, {8, 4}, {16, 8}});
  b.exe.main = Program::execute(cs);
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  HostBuffers inputs, outputs;
  CHECK_THROWS_WITH_AS(engine.run(inputs, outputs),
                       doctest::Contains("compute set 'broken' on tile 4: Add<float32>: region 0"),
                       SimError);
}
