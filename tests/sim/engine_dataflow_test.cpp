#include <doctest/doctest.h>

#include <memory>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

TEST_CASE("exchange: every copy reads before any writes, cycles by the busiest tile") {
  ExecutableBuilder b(targetPreset("ipu2"));
  b.constant("x", DType::Float32, {4}, 0, 0, toBytes<float>({1, 2, 3, 4}));
  b.constant("y", DType::Float32, {4}, 1, 0, toBytes<float>({5, 6, 7, 8}));
  const uint32_t swap = b.exchange("swap", {{0, 0, 1, 0, 16}, {1, 0, 0, 0, 16}});
  const uint32_t fanout = b.exchange("fanout", {{0, 0, 2, 0, 16}, {0, 0, 3, 16, 16}});
  b.exe.main = Program::sequence({Program::exchange(swap), Program::exchange(fanout)});

  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  StepLog log(true);
  engine.setObserver(&log);
  HostBuffers inputs, outputs;
  // swap: 100 + ceil(16 / 4) = 104; fanout: tile 0 sends 32 bytes, 100 + 8 = 108.
  CHECK(engine.run(inputs, outputs) == 104 + 90 + 108 + 90);
  CHECK(fromBytes<float>(engine.readTile(0, 0, 16)) == std::vector<float>{5, 6, 7, 8});
  CHECK(fromBytes<float>(engine.readTile(1, 0, 16)) == std::vector<float>{1, 2, 3, 4});
  CHECK(fromBytes<float>(engine.readTile(2, 0, 16)) == std::vector<float>{5, 6, 7, 8});
  CHECK(fromBytes<float>(engine.readTile(3, 16, 16)) == std::vector<float>{5, 6, 7, 8});
  REQUIRE(log.steps.size() == 4);
  CHECK(log.steps[0].kind == StepKind::Exchange);
  CHECK(log.steps[0].name == "swap");
  CHECK(log.steps[0].cycles == 104);
  CHECK(log.steps[0].bytes == 32);
  CHECK(log.steps[1].kind == StepKind::Sync);
  CHECK(log.steps[2].startCycle == 194);
  CHECK(log.steps[2].cycles == 108);
  REQUIRE(log.steps[2].sent.size() == 1472);
  CHECK(log.steps[2].sent[0] == 32);
  CHECK(log.steps[2].received[0] == 0);
  CHECK(log.steps[2].received[2] == 16);
  CHECK(log.steps[2].received[3] == 16);
}

TEST_CASE("exchange: overlapping ranges on one tile and untouched sources") {
  ExecutableBuilder b(targetPreset("ipu2"));
  b.constant("x", DType::UInt8, {8}, 0, 0, {1, 2, 3, 4, 5, 6, 7, 8});
  // Shift right by two within tile 0, and pull zeros from never-touched tile 9.
  const uint32_t shift = b.exchange("shift", {{0, 0, 0, 2, 6}, {9, 0, 0, 0, 2}});
  b.exe.main = Program::exchange(shift);
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  HostBuffers inputs, outputs;
  engine.run(inputs, outputs);
  CHECK(engine.readTile(0, 0, 8) == std::vector<uint8_t>{0, 0, 1, 2, 3, 4, 5, 6});
}

namespace {

ExecutableBuilder streamingExecutable() {
  ExecutableBuilder b(targetPreset("ipu2"));
  // x lives on tile 2; y is split over tiles 5 (elements 0..1) and 6 (element 2).
  const uint32_t x = b.variable("x", DType::Float32, {3}, 2, 100);
  Variable y;
  y.id = static_cast<uint32_t>(b.exe.variables.size());
  y.name = "y";
  y.dtype = DType::Float32;
  y.shape = {3};
  y.mapping = {{6, 0, 2, 1}, {5, 40, 0, 2}};
  b.exe.variables.push_back(y);
  const uint32_t in = b.stream("x", StreamDirection::HostToDevice, x);
  const uint32_t out = b.stream("y", StreamDirection::DeviceToHost, y.id);
  const uint32_t move = b.exchange("move", {{2, 100, 5, 40, 8}, {2, 108, 6, 0, 4}});
  b.exe.main = Program::sequence({Program::streamCopy(in), Program::exchange(move),
                                  Program::streamCopy(out)});
  return b;
}

}  // namespace

TEST_CASE("stream copies move anchors in and out, timed by the host link") {
  ExecutableBuilder b = streamingExecutable();
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  StepLog log;
  engine.setObserver(&log);
  HostBuffers inputs{{"x", toBytes<float>({1.5f, -2.0f, 3.25f})}};
  HostBuffers outputs;
  // 12 bytes: round((1 us + 12 B / 5.5 GB/s) * 1.325 GHz) = round(1327.89) = 1328, + 90 sync.
  const uint64_t stream = 1328 + 90;
  // The exchange: tile 2 sends 12 bytes, 100 + ceil(12 / 4) = 103.
  CHECK(engine.run(inputs, outputs) == stream + 103 + 90 + stream);
  CHECK(fromBytes<float>(outputs.at("y")) == std::vector<float>{1.5f, -2.0f, 3.25f});
  REQUIRE(log.steps.size() == 4);
  CHECK(log.steps[0].kind == StepKind::Stream);
  CHECK(log.steps[0].name == "x");
  CHECK(log.steps[0].bytes == 12);
  CHECK(log.steps[0].cycles == stream);
  CHECK(log.steps[3].name == "y");
  CHECK(log.steps[3].startCycle == stream + 103 + 90);

  // An output buffer that already exists is overwritten in place.
  outputs.at("y").assign(64, 0xFF);
  engine.run(inputs, outputs);
  CHECK(outputs.at("y").size() == 12);
}

TEST_CASE("stream copy errors name the anchor") {
  ExecutableBuilder b = streamingExecutable();
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  HostBuffers outputs;
  HostBuffers none;
  CHECK_THROWS_WITH_AS(engine.run(none, outputs), "missing input 'x' (float32[3])", SimError);
  HostBuffers shortInput{{"x", std::vector<uint8_t>(8)}};
  CHECK_THROWS_WITH_AS(engine.run(shortInput, outputs),
                       "input 'x' has 8 bytes, expected 12 (float32[3])", SimError);
}

namespace {

// main: stream `index` in, switch on it (case values -> copy that case's constant into
// `out`), stream `out` back.
ExecutableBuilder switchExecutable(DType indexType, std::vector<int64_t> values, bool withDefault) {
  ExecutableBuilder b(targetPreset("ipu2"));
  const uint32_t index = b.variable("index", indexType, {1}, 0, 0);
  const uint32_t out = b.variable("out", DType::Int32, {1}, 1, 0);
  std::vector<Program> cases;
  const size_t bodies = values.size() + (withDefault ? 1 : 0);
  for (size_t i = 0; i < bodies; ++i) {
    const uint32_t offset = 16 + 4 * static_cast<uint32_t>(i);
    b.constant("case" + std::to_string(i), DType::Int32, {1}, 0, offset,
               toBytes<int32_t>({static_cast<int32_t>(100 + i)}));
    cases.push_back(Program::exchange(b.exchange("pick" + std::to_string(i), {{0, offset, 1, 0, 4}})));
  }
  b.exe.main = Program::sequence(
      {Program::streamCopy(b.stream("index", StreamDirection::HostToDevice, index)),
       Program::switchOn(index, std::move(values), std::move(cases)),
       Program::streamCopy(b.stream("out", StreamDirection::DeviceToHost, out))});
  return b;
}

}  // namespace

TEST_CASE("switch runs the matching case, else the default, else fails") {
  ExecutableBuilder b = switchExecutable(DType::Int32, {0, 1, -4}, false);
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  StepLog log;
  engine.setObserver(&log);
  HostBuffers outputs;
  auto runWith = [&](int32_t index) {
    HostBuffers inputs{{"index", toBytes<int32_t>({index})}};
    log.steps.clear();
    engine.run(inputs, outputs);
    return fromBytes<int32_t>(outputs.at("out")).at(0);
  };
  CHECK(runWith(1) == 101);
  CHECK(runWith(0) == 100);
  CHECK(runWith(-4) == 102);
  REQUIRE(log.steps.size() == 5);
  CHECK(log.steps[1].kind == StepKind::Switch);
  CHECK(log.steps[1].name == "index");
  // A sync, then the 4-byte value broadcast: 90 + 100 + ceil(4 / 4).
  CHECK(log.steps[1].cycles == 191);
  CHECK(log.steps[2].kind == StepKind::Exchange);
  CHECK(log.steps[2].name == "pick2");
  HostBuffers inputs{{"index", toBytes<int32_t>({7})}};
  CHECK_THROWS_WITH_AS(engine.run(inputs, outputs), "switch on 'index': value 7 has no case",
                       SimError);

  ExecutableBuilder withDefault = switchExecutable(DType::UInt8, {3, 200}, true);
  engine.load(std::make_shared<Executable>(withDefault.exe));
  auto runWithByte = [&](uint8_t index) {
    HostBuffers byteInputs{{"index", {index}}};
    engine.run(byteInputs, outputs);
    return fromBytes<int32_t>(outputs.at("out")).at(0);
  };
  CHECK(runWithByte(200) == 101);  // read as unsigned, not -56
  CHECK(runWithByte(3) == 100);
  CHECK(runWithByte(9) == 102);    // default
}

TEST_CASE("load: cycles, constants, the load program, and replacing an executable") {
  ExecutableBuilder b(targetPreset("ipu2"));
  b.constant("weights", DType::Int8, {4}, 7, 32, {1, 2, 3, 4});
  b.exe.tileMemory = {{7, 1000, 200, 800, 500}};  // load image: 2000 bytes
  b.exe.load = Program::sequence({Program::sync()});
  Engine engine(1);
  StepLog log;
  engine.setObserver(&log);
  const auto first = std::make_shared<Executable>(b.exe);
  // 0.5 s at 1.325 GHz = 662,500,000; 2000 bytes: round((1 us + 2000 / 5.5e9 s) * 1.325e9)
  // = round(1806.82) = 1807; then the load program's sync, 90.
  CHECK(engine.load(first) == 662'500'000 + 1807 + 90);
  REQUIRE(log.steps.size() == 2);
  CHECK(log.steps[0].kind == StepKind::Load);
  CHECK(log.steps[0].cycles == 662'501'807);
  CHECK(log.steps[0].bytes == 2000);
  CHECK(log.steps[1].startCycle == 662'501'807);
  CHECK(engine.loaded() == first.get());
  CHECK(engine.readTile(7, 32, 4) == std::vector<uint8_t>{1, 2, 3, 4});

  // A second executable replaces the first: its memories are gone.
  ExecutableBuilder other(targetPreset("ipu2"));
  const auto second = std::make_shared<Executable>(other.exe);
  CHECK(engine.load(second) == 662'500'000 + 1325);  // empty image: latency only
  CHECK(engine.loaded() == second.get());
  CHECK(engine.readTile(7, 32, 4) == std::vector<uint8_t>{0, 0, 0, 0});

  // A load that fails verification leaves nothing loaded.
  ExecutableBuilder broken(targetPreset("ipu2"));
  broken.exe.main = Program::execute(3);
  CHECK_THROWS_AS(engine.load(std::make_shared<Executable>(broken.exe)), SimError);
  CHECK(engine.loaded() == nullptr);
  HostBuffers inputs, outputs;
  CHECK_THROWS_WITH_AS(engine.run(inputs, outputs), "run: no executable is loaded", SimError);
  CHECK_THROWS_AS(engine.readTile(0, 0, 4), SimError);
}

TEST_CASE("readTile checks its bounds") {
  ExecutableBuilder b(targetPreset("ipu2"));
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  CHECK(engine.readTile(1471, 624 * 1024 - 4, 4).size() == 4);
  CHECK_THROWS_AS(engine.readTile(1472, 0, 4), SimError);
  CHECK_THROWS_AS(engine.readTile(0, 624 * 1024 - 3, 4), SimError);
  CHECK(stepKindName(StepKind::Exchange) == "exchange");
  CHECK(engine.hostThreads() == 1);
  CHECK(Engine(0).hostThreads() >= 1);
}
