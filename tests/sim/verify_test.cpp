#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "sim/error.h"
#include "sim/executable.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

// A small executable that uses every part of the IR.
Executable validExecutable() {
  ExecutableBuilder b(targetPreset("ipu2"));
  const uint32_t index = b.variable("index", DType::Int32, {1}, 0, 0);
  const uint32_t x = b.variable("x", DType::Float32, {2, 2}, 1, 0);
  b.constant("w", DType::Float32, {2, 2}, 1, 16, toBytes<float>({1, 2, 3, 4}));
  const uint32_t cs = b.computeSet("add");
  b.vertex(cs, "Add<float32>", 1, {{0, 16}, {16, 16}, {32, 16}});
  const uint32_t move = b.exchange("move", {{1, 32, 2, 0, 16}});
  const uint32_t in = b.stream("x", StreamDirection::HostToDevice, x);
  const uint32_t indexIn = b.stream("index", StreamDirection::HostToDevice, index);
  b.exe.main = Program::sequence(
      {Program::streamCopy(indexIn),
       Program::switchOn(index, {0, 1},
                         {Program::sequence({Program::streamCopy(in), Program::execute(cs)}),
                          Program::repeat(2, Program::exchange(move)), Program::sync()})});
  b.exe.tileMemory = {{1, 256, 40, 16, 48}};
  return b.exe;
}

void expectFault(const std::function<void(Executable&)>& corrupt, const std::string& message) {
  Executable exe = validExecutable();
  corrupt(exe);
  CHECK_THROWS_WITH_AS(verifyExecutable(exe), doctest::Contains(message.c_str()), SimError);
}

}  // namespace

TEST_CASE("a valid executable passes") {
  CHECK_NOTHROW(verifyExecutable(validExecutable()));
  // Empty intervals (a zero-element tensor's, say) are harmless.
  Executable exe = validExecutable();
  exe.variables[1].mapping.push_back({3, 0, 4, 0});
  exe.variables[1].mapping.push_back({3, 0, 0, 0});
  CHECK_NOTHROW(verifyExecutable(exe));
}

TEST_CASE("verifyExecutable rejects target faults") {
  expectFault([](Executable& e) { e.target.tiles = 0; }, "target: tiles");
  expectFault([](Executable& e) { e.target.tiles = 1u << 20; }, "target: tiles");
  expectFault([](Executable& e) { e.target.bytesPerTile = 0; }, "target: bytesPerTile");
  expectFault([](Executable& e) { e.target.bytesPerTile = 1u << 30; }, "target: bytesPerTile");
  expectFault([](Executable& e) { e.target.workerContexts = 0; }, "target: workerContexts");
  expectFault([](Executable& e) { e.target.exchangeBytesPerCycle = 0; }, "exchangeBytesPerCycle");
  expectFault([](Executable& e) { e.target.clockHz = 0; }, "clockHz");
  expectFault([](Executable& e) { e.target.hostLinkBytesPerSecond = -1; }, "hostLinkBytesPerSecond");
  expectFault([](Executable& e) { e.target.loadFixedSeconds = std::nan(""); }, "loadFixedSeconds");
}

TEST_CASE("verifyExecutable rejects mapping faults") {
  expectFault([](Executable& e) { e.variables[1].id = 7; }, "variable 'x' (id 1): id 7 differs");
  expectFault([](Executable& e) { e.variables[1].mapping[0].tile = 1472; },
              "variable 'x' (id 1): mapped to tile 1472");
  expectFault([](Executable& e) { e.variables[1].mapping[0].elementCount = 3; },
              "variable 'x' (id 1): element 3 is not mapped");
  expectFault([](Executable& e) { e.variables[1].mapping.push_back({3, 0, 3, 2}); },
              "lies outside its 4 elements");
  expectFault(
      [](Executable& e) {
        e.variables[1].mapping = {{1, 0, 0, 3}, {2, 0, 2, 2}};
      },
      "element 2 is mapped more than once");
  expectFault(
      [](Executable& e) {
        e.variables[1].mapping = {{1, 0, 0, 2}, {1, 4, 2, 2}};
      },
      "two of its intervals overlap on tile 1");
  expectFault([](Executable& e) { e.variables[1].mapping[0].tileOffset = 624 * 1024 - 8; },
              "runs past the tile's 638976 bytes");
  expectFault([](Executable& e) { e.variables[1].mapping[0].elementCount = 1ULL << 62; },
              "runs past the tile");
  expectFault([](Executable& e) { e.variables[1].mapping[0].firstElement = ~0ULL - 1; },
              "lies outside");
  expectFault([](Executable& e) { e.variables[1].mapping.push_back({1500, 0, 4, 0}); },
              "mapped to tile 1500");
  expectFault([](Executable& e) { e.variables[1].shape = {-2, 2}; }, "negative dimension");
  expectFault([](Executable& e) { e.variables[1].shape = {1LL << 31, 1LL << 31}; },
              "does not fit in the machine's memory");
  expectFault([](Executable& e) { e.variables[1].dtype = static_cast<DType>(42); }, "unknown dtype");
}

TEST_CASE("verifyExecutable rejects constant data faults") {
  expectFault([](Executable& e) { e.variables[2].data.pop_back(); },
              "variable 'w' (id 2): constant holds 15 bytes of data, expected 16");
  expectFault([](Executable& e) { e.variables[1].data = {1}; }, "only constants carry data");
}

TEST_CASE("verifyExecutable rejects codelet and vertex faults") {
  expectFault([](Executable& e) { e.codelets[0] = "Add<float64>"; },
              "codelet 0 'Add<float64>' is not a known codelet");
  expectFault([](Executable& e) { e.computeSets[0].vertices[0].codelet = 5; },
              "compute set 'add' vertex 0: codelet index 5 out of range");
  expectFault([](Executable& e) { e.computeSets[0].vertices[0].tile = 5000; }, "tile 5000 out of range");
  expectFault([](Executable& e) { e.computeSets[0].vertices[0].fields[2][0] = {0xFFFFFFF0u, 32}; },
              "compute set 'add' vertex 0 field 2: region");
  expectFault([](Executable& e) { e.computeSets[0].vertices[0].fields[1][0] = {638970, 8}; },
              "runs past the tile's 638976 bytes");
}

TEST_CASE("verifyExecutable rejects exchange and stream faults") {
  expectFault([](Executable& e) { e.exchanges[0].copies[0].dstTile = 1472; },
              "exchange 'move' copy 0: tile out of range");
  expectFault([](Executable& e) { e.exchanges[0].copies[0].srcOffset = 0xFFFFFFFFu; },
              "exchange 'move' copy 0: source");
  expectFault([](Executable& e) { e.exchanges[0].copies[0].dstOffset = 638970; },
              "exchange 'move' copy 0: destination");
  expectFault(
      [](Executable& e) {
        e.exchanges[0].copies.assign(3, Copy{1, 0, 2, 0, 300000});
      },
      "copy 2: tile 2 receives more than its memory");
  expectFault([](Executable& e) { e.streams[0].variable = 99; }, "stream 0 'x': variable 99 out of range");
  expectFault([](Executable& e) { e.streams[0].anchor.clear(); }, "stream 0: empty anchor");
  expectFault([](Executable& e) { e.streams[0].shape = {5}; },
              "stream 0 'x': anchor shape [5] has 5 elements, its variable 'x' [2,2] has 4");
  expectFault([](Executable& e) { e.streams[0].direction = static_cast<StreamDirection>(9); },
              "unknown direction");
}

TEST_CASE("verifyExecutable rejects program faults") {
  expectFault([](Executable& e) { e.main.body[1].body[0].body[1].ref = 4; },
              "program main: compute set 4 out of range");
  expectFault([](Executable& e) { e.main.body[1].body[1].body[0].ref = 1; },
              "program main: exchange 1 out of range");
  expectFault([](Executable& e) { e.main.body[0].ref = 2; }, "program main: stream 2 out of range");
  expectFault([](Executable& e) { e.load = Program::execute(1); },
              "program load: compute set 1 out of range");
  expectFault([](Executable& e) { e.main.body[1].body[1].body.push_back(Program::sync()); },
              "Repeat needs exactly one body");
  expectFault([](Executable& e) { e.main.body[1].body[1].count = 2'000'000'000; },
              "Repeat runs more than 1000000000 iterations");
  expectFault(
      [](Executable& e) {
        e.main = Program::repeat(100000, Program::repeat(100000, Program::sync()));
      },
      "Repeat runs more than");
  expectFault([](Executable& e) { e.main.body[1].caseValues.push_back(9); },
              "switch on 'index' has 3 bodies for 3 case values and a default");
  expectFault([](Executable& e) { e.main.body[1].caseValues[1] = 0; }, "repeats case 0");
  expectFault([](Executable& e) { e.main.body[1].ref = 1; },
              "switch variable 'x' must be a single-element integer variable, not float32[2,2]");
  expectFault([](Executable& e) { e.main.body[1].ref = 50; }, "switch variable 50 out of range");
  expectFault([](Executable& e) { e.main.body[0].body.push_back(Program::sync()); },
              "StreamCopy has a body");
  expectFault([](Executable& e) { e.main.kind = static_cast<ProgramKind>(77); },
              "unknown program kind");
  expectFault(
      [](Executable& e) {
        Program deep = Program::sync();
        for (int i = 0; i < 70; ++i) deep = Program::sequence({std::move(deep)});
        e.main = std::move(deep);
      },
      "nested deeper than 64");
}

TEST_CASE("verifyExecutable rejects tile memory faults") {
  expectFault([](Executable& e) { e.tileMemory[0].tile = 2000; }, "tile memory: tile 2000 out of range");
  expectFault([](Executable& e) { e.tileMemory[0].variables = 0xFFFFFFF0u; },
              "tile memory: tile 1 uses");
}

TEST_CASE("switchOn pairs values with bodies") {
  const Program plain = Program::switchOn(0, {1, 2}, {Program::sync(), Program::sync()});
  CHECK_FALSE(plain.hasDefault);
  const Program withDefault =
      Program::switchOn(0, {1}, {Program::sync(), Program::sync()});
  CHECK(withDefault.hasDefault);
  CHECK(withDefault.kind == ProgramKind::Switch);
  CHECK_THROWS_AS(Program::switchOn(0, {1}, {}), SimError);
  const Program repeat = Program::repeat(3, Program::sync());
  CHECK(repeat.count == 3);
  CHECK(repeat.body.size() == 1);
}

TEST_CASE("loadImageBytes and findStream") {
  Executable exe = validExecutable();
  exe.tileMemory.push_back({9, 100, 10, 1, 999});
  CHECK(exe.loadImageBytes() == 256 + 40 + 16 + 100 + 10 + 1);
  REQUIRE(exe.findStream("index") != nullptr);
  CHECK(exe.findStream("index")->variable == 0);
  CHECK(exe.findStream("nope") == nullptr);
}
