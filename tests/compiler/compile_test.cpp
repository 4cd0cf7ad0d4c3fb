#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <cstring>
#include <set>

#include "compiler/compiler.h"
#include "compiler/fusion_config.h"
#include "sim/codelet.h"
#include "test_support.h"

using namespace ipusim;
using ipusim::test::modelPath;

namespace {

ModelOptions options(const std::string& model, std::vector<std::string> shapes = {}, std::string precision = "fp32") {
  ModelOptions o;
  o.modelPath = modelPath(model);
  o.inputShapes = std::move(shapes);
  o.precision = std::move(precision);
  return o;
}

const HostStream& stream(const Executable& exe, const std::string& anchor) {
  const HostStream* s = exe.findStream(anchor);
  REQUIRE_MESSAGE(s, "no anchor " << anchor);
  return *s;
}

uint64_t totalBytes(const Executable& exe) {
  uint64_t total = 0;
  for (const auto& t : exe.tileMemory) total += t.total();
  return total;
}

std::map<uint32_t, TileMemoryUsage> byTile(const Executable& exe) {
  std::map<uint32_t, TileMemoryUsage> m;
  for (const auto& t : exe.tileMemory) m[t.tile] = t;
  return m;
}

}  // namespace

TEST_CASE("the seed pair fuses into anchors named as PopRT names them") {
  Executable exe = fuseModels(loadFusionConfig(modelPath("config.yaml")).models);
  verifyExecutable(exe);
  CHECK(exe.target.name == "ipu21");
  CHECK(stream(exe, "index").shape == Shape{1});
  CHECK(exe.variables[stream(exe, "index").variable].dtype == DType::UInt8);
  CHECK(stream(exe, "graph0/stream0").direction == StreamDirection::HostToDevice);
  CHECK(stream(exe, "graph0/stream1").shape == Shape{1, 2});
  CHECK(exe.variables[stream(exe, "graph1/stream0").variable].dtype == DType::Float16);
  CHECK(stream(exe, "graph0/O").shape == Shape{2});  // the reshape's view, not [1,2]
  CHECK(stream(exe, "graph0/O").direction == StreamDirection::DeviceToHost);
  CHECK(stream(exe, "graph1/O").shape == Shape{1, 3});
  CHECK(exe.streams.size() == 6);

  REQUIRE(exe.fusion.subgraphs.size() == 2);
  CHECK(exe.fusion.indexAnchor == "index");
  CHECK(exe.fusion.subgraphs[0].inputs == std::vector<std::string>{"graph0/stream0", "graph0/stream1"});
  CHECK(exe.fusion.subgraphs[0].outputs == std::vector<std::string>{"graph0/O"});
  CHECK(exe.fusion.subgraphs[0].aliases[1] == std::pair<std::string, std::string>{"graph0/Y", "graph0/stream1"});
  CHECK(exe.fusion.subgraphs[1].precision == "fp16");

  // main = [stream index; Switch(index) {0: subgraph 0, 1: subgraph 1}]
  REQUIRE(exe.main.kind == ProgramKind::Sequence);
  REQUIRE(exe.main.body.size() == 2);
  const Program& sw = exe.main.body[1];
  CHECK(sw.kind == ProgramKind::Switch);
  CHECK(sw.caseValues == std::vector<int64_t>{0, 1});
  CHECK_FALSE(sw.hasDefault);
  CHECK(exe.variables[sw.ref].name == "index");
}

TEST_CASE("a single model keeps its own anchor names") {
  Executable exe = compileModel(options("model0.onnx"));
  CHECK_FALSE(exe.fusion.fused());
  CHECK(exe.findStream("X"));
  CHECK(exe.findStream("Y"));
  CHECK(stream(exe, "O").shape == Shape{2});
  CHECK_FALSE(exe.findStream("index"));
  // Add is one vertex on tile 0; Reshape aliases, so O streams out of Add's variable.
  REQUIRE(exe.computeSets.size() == 1);
  CHECK(exe.computeSets[0].vertices.size() == 1);
  CHECK(exe.codelets[exe.computeSets[0].vertices[0].codelet] == "Add<float32>");
  CHECK(exe.variables[stream(exe, "O").variable].name == "S");
}

TEST_CASE("Concat moves each input into place with one exchange") {
  Executable exe = compileModel(options("model1.onnx"));
  CHECK(exe.computeSets.empty());
  REQUIRE(exe.exchanges.size() == 1);
  const auto& copies = exe.exchanges[0].copies;
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].bytes == 2);  // X: one half
  CHECK(copies[1].bytes == 4);  // the [1.5, 2.0] initializer
  const auto& out = exe.variables[stream(exe, "O").variable];
  CHECK(copies[1].dstOffset == out.mapping[0].tileOffset + 2);
}

TEST_CASE("elementwise work spreads over tiles and six workers") {
  Executable exe = compileModel(options("temps_a.onnx"));
  REQUIRE(exe.computeSets.size() == 3);  // Mul, Add, Sub
  std::set<uint32_t> tiles;
  std::map<uint32_t, int> perTile;
  for (const auto& v : exe.computeSets[0].vertices) {
    tiles.insert(v.tile);
    ++perTile[v.tile];
  }
  CHECK(tiles.size() == 128);  // 4096 fp32 elements, at least 128 bytes per tile
  CHECK(perTile[0] == 6);     // 32 elements in grains of 2 over 6 workers: 6,6,6,6,6,2
  CHECK(exe.computeSets[0].vertices.size() == 768);
  CHECK(exe.exchanges.empty());  // every operand already lies where the output does
}

TEST_CASE("broadcast operands are exchanged into the output's layout") {
  Executable exe = compileModel(options("model_int8.onnx"));
  // S = A + B and D = A - B both need B[3] laid out as [2,3]: one exchange each.
  REQUIRE(exe.exchanges.size() == 2);
  for (const auto& ex : exe.exchanges) {
    REQUIRE(ex.copies.size() == 2);  // one 3-byte row copy per output row
    CHECK(ex.copies[0].bytes == 3);
    CHECK(ex.copies[1].bytes == 3);
  }
  CHECK(exe.findStream("S"));
  CHECK(exe.findStream("R"));
}

TEST_CASE("constant folding evaluates constant subgraphs within max_tensor_size") {
  ModelOptions o = options("folding.onnx");
  Executable folded = compileModel(o);
  REQUIRE(folded.computeSets.size() == 1);  // only X + P remains
  CHECK(folded.codelets[folded.computeSets[0].vertices[0].codelet] == "Add<float32>");
  const Variable* p = nullptr;
  for (const auto& v : folded.variables)
    if (v.kind == VariableKind::Constant) p = &v;
  REQUIRE(p);
  std::vector<float> values(4);
  std::memcpy(values.data(), p->data.data(), 16);
  CHECK(values == std::vector<float>{0.5f, 1.0f, 6.0f, 8.0f});

  o.maxTensorSize = 8;  // P is 16 bytes: too big to fold
  Executable unfolded = compileModel(o);
  CHECK(unfolded.computeSets.size() == 2);
}

TEST_CASE("fused memory never exceeds the separate executables, and shares temporaries") {
  Executable a = compileModel(options("temps_a.onnx"));
  Executable b = compileModel(options("temps_b.onnx"));
  Executable fused = fuseModels(loadFusionConfig(modelPath("config_temps.yaml")).models);

  CHECK(totalBytes(fused) < totalBytes(a) + totalBytes(b));
  auto ta = byTile(a), tb = byTile(b);
  for (const auto& t : fused.tileMemory) {
    uint32_t separate = ta[t.tile].total() + tb[t.tile].total();
    // The index variable (8 aligned bytes on tile 0) is the only thing fusion adds.
    CHECK(t.total() <= separate + (t.tile == 0 ? 8u : 0u));
    if (ta.count(t.tile) && tb.count(t.tile)) {
      CHECK(t.total() < separate);
      // Temporaries share bytes: the variable area is the larger of the two, not the sum.
      CHECK(t.variables <= std::max(ta[t.tile].variables, tb[t.tile].variables) + (t.tile == 0 ? 8u : 0u));
      CHECK(t.variables < ta[t.tile].variables + tb[t.tile].variables);
      // Each codelet's code once: Add, Sub, Mul are used by both subgraphs.
      CHECK(t.code < ta[t.tile].code + tb[t.tile].code);
      CHECK(t.vertexState == ta[t.tile].vertexState + tb[t.tile].vertexState);
    }
  }
}

TEST_CASE("liveness lets a dead temporary's bytes be reused") {
  Executable a = compileModel(options("temps_a.onnx"));
  // X (live throughout), T1 (Mul -> Add), T2 (Add -> Sub), O: T1 is dead when O is made.
  const uint32_t perTensor = 32 * 4;
  auto tiles = byTile(a);
  CHECK(tiles[0].variables == 3 * perTensor);
  CHECK(tiles[0].constants == 0);
}

TEST_CASE("a model too big for the tiles names the tile, the tensor and the bytes") {
  CHECK_THROWS_WITH_AS(compileModel(options("huge.onnx")),
                       doctest::Contains("out of tile memory: tile 0 needs"), CompileError);
  CHECK_THROWS_WITH_AS(compileModel(options("huge.onnx")), doctest::Contains("short); its largest tensor is 'X'"),
                       CompileError);
}

TEST_CASE("fusing models for different IPUs is refused") {
  auto models = loadFusionConfig(modelPath("config.yaml")).models;
  models[1].ipuVersion = "ipu2";
  CHECK_THROWS_WITH_AS(fuseModels(models), doctest::Contains("every fused model runs on the same IPU"), CompileError);
  CHECK_THROWS_WITH_AS(fuseModels({}), "model fusion needs at least one model", CompileError);
}
