#include <doctest/doctest.h>

#include <memory>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

constexpr uint32_t kTiles = 400;
constexpr uint32_t kPerTile = 48;  // float32 elements of each operand on a tile

// Deterministic pseudo-random floats (a linear congruential generator).
std::vector<float> noise(size_t count, uint32_t seed) {
  std::vector<float> values(count);
  uint32_t state = seed;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = static_cast<float>(static_cast<int32_t>(state >> 8) % 20001 - 10000) / 97.0f;
  }
  return values;
}

// A variable of kTiles * count elements spread evenly over tiles [0, kTiles) at `offset`.
uint32_t spread(ExecutableBuilder& b, const std::string& name, DType dtype, uint32_t count,
                uint32_t offset) {
  Variable variable;
  variable.id = static_cast<uint32_t>(b.exe.variables.size());
  variable.name = name;
  variable.dtype = dtype;
  variable.shape = {kTiles, count};
  for (uint32_t tile = 0; tile < kTiles; ++tile) {
    variable.mapping.push_back({tile, offset, uint64_t{tile} * count, count});
  }
  b.exe.variables.push_back(variable);
  return variable.id;
}

// Per tile: a vertex count that varies with the tile (1..5 Mul vertices), then a Relu and
// a cast to float16; the whole result streams out.
ExecutableBuilder spreadExecutable(uint32_t brokenTile = kTiles) {
  ExecutableBuilder b(targetPreset("ipu2"));
  const uint32_t a = spread(b, "a", DType::Float32, kPerTile, 0);
  const uint32_t c = spread(b, "c", DType::Float32, kPerTile, 1024);
  const uint32_t product = spread(b, "product", DType::Float32, kPerTile, 2048);
  const uint32_t halves = spread(b, "halves", DType::Float16, kPerTile, 4096);
  const uint32_t mul = b.computeSet("mul");
  const uint32_t relu = b.computeSet("relu");
  const uint32_t cast = b.computeSet("cast");
  for (uint32_t tile = 0; tile < kTiles; ++tile) {
    const uint32_t pieces = 1 + tile % 5;
    const uint32_t piece = kPerTile / pieces;
    for (uint32_t p = 0; p < pieces; ++p) {
      const uint32_t first = p * piece;
      const uint32_t count = p + 1 == pieces ? kPerTile - first : piece;
      const uint32_t outBytes = tile == brokenTile ? 4 * count - 4 : 4 * count;
      b.vertex(mul, "Mul<float32>", tile,
               {{4 * first, 4 * count}, {1024 + 4 * first, 4 * count}, {2048 + 4 * first, outBytes}});
    }
    b.vertex(relu, "Relu<float32>", tile, {{2048, 4 * kPerTile}, {2048, 4 * kPerTile}});
    b.vertex(cast, "Cast<float32,float16>", tile, {{2048, 4 * kPerTile}, {4096, 2 * kPerTile}});
  }
  b.exe.main = Program::sequence(
      {Program::streamCopy(b.stream("a", StreamDirection::HostToDevice, a)),
       Program::streamCopy(b.stream("c", StreamDirection::HostToDevice, c)),
       Program::execute(mul), Program::execute(relu), Program::execute(cast),
       Program::streamCopy(b.stream("product", StreamDirection::DeviceToHost, product)),
       Program::streamCopy(b.stream("halves", StreamDirection::DeviceToHost, halves))});
  return b;
}

struct Outcome {
  uint64_t cycles = 0;
  HostBuffers outputs;
  std::vector<StepLog::Entry> steps;
};

Outcome runOn(unsigned threads, const Executable& exe) {
  Engine engine(threads);
  engine.load(std::make_shared<Executable>(exe));
  StepLog log(true);
  engine.setObserver(&log);
  HostBuffers inputs{{"a", toBytes(noise(kTiles * kPerTile, 1))},
                     {"c", toBytes(noise(kTiles * kPerTile, 2))}};
  Outcome outcome;
  outcome.cycles = engine.run(inputs, outcome.outputs);
  outcome.steps = log.steps;
  return outcome;
}

}  // namespace

TEST_CASE("results and cycles do not depend on the host thread count") {
  const ExecutableBuilder b = spreadExecutable();
  const Outcome one = runOn(1, b.exe);
  const Outcome four = runOn(4, b.exe);
  CHECK(one.cycles == four.cycles);
  CHECK(one.outputs == four.outputs);
  REQUIRE(one.steps.size() == four.steps.size());
  for (size_t i = 0; i < one.steps.size(); ++i) {
    CHECK(one.steps[i].cycles == four.steps[i].cycles);
    CHECK(one.steps[i].tileCycles == four.steps[i].tileCycles);
  }

  // Check the values themselves on a few elements, and one tile's cycles by formula.
  const auto a = noise(kTiles * kPerTile, 1);
  const auto c = noise(kTiles * kPerTile, 2);
  const auto product = fromBytes<float>(one.outputs.at("product"));
  const auto halves = halfValues(one.outputs.at("halves"));
  for (size_t i : {size_t{0}, size_t{777}, size_t{kTiles * kPerTile - 1}}) {
    const float expected = std::max(a[i] * c[i], 0.0f);
    CHECK(product[i] == expected);
    CHECK(halves[i] == halfToFloat(floatToHalf(expected)));
  }
  // Tile 4 runs 5 Mul vertices of 9, 9, 9, 9 and 12 elements: 5 + ceil(n / 2) * 3 each =
  // 20, 20, 20, 20, 23 on five workers; 11 * 5 + 6 * 23 = 193.
  const auto& mulStep = one.steps[2];
  CHECK(mulStep.name == "mul");
  CHECK(mulStep.tileCycles[4] == 193);
  // Tile 0 runs one vertex of 48 elements: 11 + 6 * (5 + 24 * 3) = 473, the slowest.
  CHECK(mulStep.tileCycles[0] == 473);
  CHECK(mulStep.cycles == 473);
}

TEST_CASE("the reported kernel error does not depend on the host thread count") {
  const ExecutableBuilder b = spreadExecutable(321);
  std::string messages[2];
  for (unsigned threads : {1u, 4u}) {
    try {
      runOn(threads, b.exe);
      FAIL("expected an error");
    } catch (const SimError& error) {
      messages[threads == 1 ? 0 : 1] = error.what();
    }
  }
  CHECK(messages[0] == messages[1]);
  CHECK(messages[0].find("compute set 'mul' on tile 321: Mul<float32>") == 0);
}
