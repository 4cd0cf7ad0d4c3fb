// ModelRunner on executables compiled from the generated test models.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "compiler/compiler.h"
#include "compiler/fusion_config.h"
#include "popef/popef_file.h"
#include "sim/half.h"
#include "sim/runtime/model_runner.h"

using namespace ipusim;

namespace {

const std::string kModels = IPUSIM_TEST_MODELS;

// Compiling is the slow part: each executable is built once per test binary.
std::shared_ptr<const Executable> fusedFrom(const std::string& yaml) {
  static std::map<std::string, std::shared_ptr<const Executable>> cache;
  auto it = cache.find(yaml);
  if (it == cache.end()) {
    const FusionConfig config = loadFusionConfig(kModels + "/" + yaml);
    it = cache.emplace(yaml, std::make_shared<const Executable>(fuseModels(config.models))).first;
  }
  return it->second;
}

std::shared_ptr<const Executable> seedPair() { return fusedFrom("config.yaml"); }

std::shared_ptr<const Executable> singleModel0() {
  static auto exe = std::make_shared<const Executable>(
      compileModel(ModelOptions{kModels + "/model0.onnx", {}, "fp32", -1, "ipu21"}));
  return exe;
}

template <typename T>
HostTensor tensorOf(DType dtype, Shape shape, const std::vector<T>& values) {
  HostTensor t{dtype, std::move(shape), {}};
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

HostTensor f32(Shape shape, std::vector<float> values) {
  return tensorOf(DType::Float32, std::move(shape), values);
}

HostTensor f16(Shape shape, const std::vector<float>& values) {
  std::vector<uint16_t> bits;
  for (float v : values) bits.push_back(floatToHalf(v));
  return tensorOf(DType::Float16, std::move(shape), bits);
}

HostTensor i8(Shape shape, std::vector<int8_t> values) {
  return tensorOf(DType::Int8, std::move(shape), values);
}

std::vector<float> floatsOf(const HostTensor& t) {
  std::vector<float> out;
  if (t.dtype == DType::Float32) {
    out.resize(t.data.size() / 4);
    std::memcpy(out.data(), t.data.data(), t.data.size());
  } else if (t.dtype == DType::Float16) {
    for (size_t i = 0; i + 1 < t.data.size(); i += 2) {
      uint16_t bits;
      std::memcpy(&bits, t.data.data() + i, 2);
      out.push_back(halfToFloat(bits));
    }
  }
  return out;
}

std::vector<int> int8sOf(const HostTensor& t) {
  std::vector<int> out;
  for (uint8_t byte : t.data) out.push_back(static_cast<int8_t>(byte));
  return out;
}

// The RuntimeError message of `call`, or "" when it did not throw one.
template <typename F>
std::string errorOf(F&& call) {
  try {
    call();
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "";
}

void checkOneLineContains(const std::string& message, const std::vector<std::string>& parts) {
  CAPTURE(message);
  CHECK(!message.empty());
  CHECK(message.find('\n') == std::string::npos);
  for (const std::string& part : parts) {
    CAPTURE(part);
    CHECK(message.find(part) != std::string::npos);
  }
}

std::map<std::string, HostTensor> seedInputs0() {
  return {{"graph0/stream0", f32({1, 2}, {1, 1})}, {"graph0/stream1", f32({1, 2}, {2, 2})}};
}

}  // namespace

TEST_CASE("seed pair: anchors of the fused executable") {
  ModelRunner runner(seedPair(), RuntimeConfig{2});
  const auto inputs = runner.inputs();
  REQUIRE(inputs.size() == 3);
  CHECK(inputs[0].name == "graph0/stream0");
  CHECK(inputs[0].dtype == DType::Float32);
  CHECK(shapeString(inputs[0].shape) == "[1,2]");
  CHECK(inputs[0].subgraph == 0u);
  CHECK(inputs[1].name == "graph0/stream1");
  CHECK(inputs[2].name == "graph1/stream0");
  CHECK(inputs[2].dtype == DType::Float16);
  CHECK(shapeString(inputs[2].shape) == "[1,1]");
  CHECK(inputs[2].subgraph == 1u);
  for (const AnchorInfo& in : inputs) CHECK(in.name != "index");

  const auto outputs = runner.outputs();
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0].name == "graph0/O");
  CHECK(outputs[0].dtype == DType::Float32);
  CHECK(shapeString(outputs[0].shape) == "[2]");
  CHECK(outputs[0].direction == StreamDirection::DeviceToHost);
  CHECK(outputs[1].name == "graph1/O");
  CHECK(outputs[1].dtype == DType::Float16);
  CHECK(shapeString(outputs[1].shape) == "[1,3]");

  CHECK(runner.loadCycles() > 0);
  CHECK(runner.inputsOf(1).size() == 1);
  CHECK(runner.inputsOf(0).size() == 2);
}

TEST_CASE("seed pair: index 0 adds, index 1 concatenates in fp16") {
  ModelRunner runner(seedPair(), RuntimeConfig{2});

  RunResult r0 = runner.execute(0, seedInputs0());
  CHECK(r0.index == 0u);
  CHECK(r0.execCycles > 0);
  REQUIRE(r0.outputs.size() == 1);
  const HostTensor& o0 = r0.outputs.at("graph0/O");
  CHECK(o0.dtype == DType::Float32);
  CHECK(shapeString(o0.shape) == "[2]");
  CHECK(floatsOf(o0) == std::vector<float>{3, 3});

  RunResult r1 = runner.execute(1, {{"graph1/stream0", f16({1, 1}, {0})}});
  CHECK(r1.index == 1u);
  REQUIRE(r1.outputs.size() == 1);
  const HostTensor& o1 = r1.outputs.at("graph1/O");
  CHECK(o1.dtype == DType::Float16);
  CHECK(shapeString(o1.shape) == "[1,3]");
  CHECK(floatsOf(o1) == std::vector<float>{0, 1.5f, 2.0f});

  // Switching back and forth keeps each subgraph's result (weights stay resident).
  CHECK(floatsOf(runner.execute(0, seedInputs0()).outputs.at("graph0/O")) ==
        std::vector<float>{3, 3});
  CHECK(floatsOf(runner.execute(1, {{"graph1/stream0", f16({1, 1}, {-4})}}).outputs.at("graph1/O")) ==
        std::vector<float>{-4, 1.5f, 2.0f});
}

TEST_CASE("seed pair: aliases name the same inputs") {
  ModelRunner runner(seedPair(), RuntimeConfig{1});
  RunResult r = runner.execute(0, {{"graph0/X", f32({1, 2}, {0.5f, -1})},
                                   {"graph0/Y", f32({1, 2}, {0.25f, 4})}});
  CHECK(floatsOf(r.outputs.at("graph0/O")) == std::vector<float>{0.75f, 3});
  // An alias and an anchor name mixed.
  r = runner.execute(0, {{"graph0/X", f32({1, 2}, {1, 2})}, {"graph0/stream1", f32({1, 2}, {3, 4})}});
  CHECK(floatsOf(r.outputs.at("graph0/O")) == std::vector<float>{4, 6});
  r = runner.execute(1, {{"graph1/X", f16({1, 1}, {7})}});
  CHECK(floatsOf(r.outputs.at("graph1/O")) == std::vector<float>{7, 1.5f, 2});

  checkOneLineContains(errorOf([&] {
                         runner.execute(0, {{"graph0/X", f32({1, 2}, {1, 2})},
                                            {"graph0/stream0", f32({1, 2}, {1, 2})},
                                            {"graph0/Y", f32({1, 2}, {1, 2})}});
                       }),
                       {"graph0/stream0", "given twice"});
}

TEST_CASE("seed pair: the index is inferred from the inputs, or read from an index input") {
  ModelRunner runner(seedPair(), RuntimeConfig{1});
  RunResult r = runner.execute(std::nullopt, seedInputs0());
  CHECK(r.index == 0u);
  CHECK(floatsOf(r.outputs.at("graph0/O")) == std::vector<float>{3, 3});

  r = runner.execute(std::nullopt, {{"graph1/X", f16({1, 1}, {1})}});
  CHECK(r.index == 1u);
  CHECK(floatsOf(r.outputs.at("graph1/O")) == std::vector<float>{1, 1.5f, 2});
  CHECK(runner.resolveIndex(std::nullopt, {{"graph1/stream0", f16({1, 1}, {1})}}) == 1u);

  // The index as an input tensor: uint8, uint32 and int32 are accepted.
  auto withIndex = [](HostTensor index) {
    return std::map<std::string, HostTensor>{{"index", std::move(index)},
                                             {"graph1/stream0", f16({1, 1}, {0})}};
  };
  for (const HostTensor& index :
       {tensorOf<uint8_t>(DType::UInt8, {1}, {1}), tensorOf<uint32_t>(DType::UInt32, {1}, {1}),
        tensorOf<int32_t>(DType::Int32, {1}, {1})}) {
    CAPTURE(dtypeName(index.dtype));
    r = runner.execute(std::nullopt, withIndex(index));
    CHECK(r.index == 1u);
    CHECK(floatsOf(r.outputs.at("graph1/O")) == std::vector<float>{0, 1.5f, 2});
  }
  // Given both ways, they must agree.
  CHECK(runner.execute(1, withIndex(tensorOf<uint8_t>(DType::UInt8, {1}, {1}))).index == 1u);
  checkOneLineContains(
      errorOf([&] { runner.execute(0, withIndex(tensorOf<uint8_t>(DType::UInt8, {1}, {1}))); }),
      {"index given twice", "0", "1"});
  checkOneLineContains(
      errorOf([&] { runner.execute(std::nullopt, withIndex(tensorOf<int64_t>(DType::Int64, {1}, {1}))); }),
      {"index", "uint8, uint32 or int32", "int64"});
  checkOneLineContains(
      errorOf([&] { runner.execute(std::nullopt, withIndex(tensorOf<uint8_t>(DType::UInt8, {2}, {1, 1}))); }),
      {"index", "one element", "[2]"});
  checkOneLineContains(
      errorOf([&] { runner.execute(std::nullopt, withIndex(tensorOf<uint8_t>(DType::UInt8, {1}, {9}))); }),
      {"index 9 is out of range"});
}

TEST_CASE("seed pair: every bad input is one clear RuntimeError") {
  ModelRunner runner(seedPair(), RuntimeConfig{1});

  CHECK(errorOf([&] { runner.execute(5, {}); }) ==
        "index 5 is out of range: this executable has 2 subgraphs (0..1)");
  CHECK(errorOf([&] { runner.execute(-1, {}); }) ==
        "index -1 is out of range: this executable has 2 subgraphs (0..1)");
  CHECK(errorOf([&] { runner.inputsOf(2); }) ==
        "index 2 is out of range: this executable has 2 subgraphs (0..1)");

  checkOneLineContains(errorOf([&] {
                         auto in = seedInputs0();
                         in["graph0/Z"] = f32({1, 2}, {1, 1});
                         runner.execute(0, in);
                       }),
                       {"unknown input 'graph0/Z'", "valid inputs are", "index", "graph0/stream0",
                        "graph0/stream1", "graph1/stream0", "graph0/X"});
  checkOneLineContains(errorOf([&] { runner.execute(0, {{"graph0/O", f32({2}, {1, 1})}}); }),
                       {"unknown input 'graph0/O'", "it is an output"});

  checkOneLineContains(
      errorOf([&] { runner.execute(0, {{"graph0/stream0", f32({1, 2}, {1, 1})}}); }),
      {"missing input graph0/stream1", "alias graph0/Y", "float32 [1,2]"});
  checkOneLineContains(errorOf([&] { runner.execute(1, {}); }), {"missing input graph1/stream0"});

  checkOneLineContains(errorOf([&] {
                         auto in = seedInputs0();
                         in["graph0/stream0"] = f16({1, 2}, {1, 1});
                         runner.execute(0, in);
                       }),
                       {"graph0/stream0", "expected float32 [1,2]", "given float16 [1,2]"});
  checkOneLineContains(errorOf([&] {
                         auto in = seedInputs0();
                         in["graph0/stream1"] = f32({2, 1}, {1, 1});
                         runner.execute(0, in);
                       }),
                       {"graph0/stream1", "expected float32 [1,2]", "given float32 [2,1]"});
  checkOneLineContains(errorOf([&] {
                         auto in = seedInputs0();
                         in["graph0/stream1"].data.pop_back();
                         runner.execute(0, in);
                       }),
                       {"graph0/stream1", "8 bytes", "given 7"});

  // Inputs of two subgraphs and no index: nothing to infer from.
  checkOneLineContains(errorOf([&] {
                         auto in = seedInputs0();
                         in["graph1/stream0"] = f16({1, 1}, {0});
                         runner.execute(std::nullopt, in);
                       }),
                       {"cannot infer the index", "subgraphs 0, 1"});
  checkOneLineContains(errorOf([&] { runner.execute(std::nullopt, {}); }),
                       {"no index given", "2 subgraphs (0..1)"});
  // An input of the other subgraph.
  checkOneLineContains(errorOf([&] {
                         auto in = seedInputs0();
                         in["graph1/stream0"] = f16({1, 1}, {0});
                         runner.execute(0, in);
                       }),
                       {"graph1/stream0", "belongs to subgraph 1", "index 0",
                        "graph0/stream0"});

  // After all these errors the runner still works.
  CHECK(floatsOf(runner.execute(0, seedInputs0()).outputs.at("graph0/O")) ==
        std::vector<float>{3, 3});
}

TEST_CASE("three models: fp32, fp16 and int8 by index") {
  ModelRunner runner(fusedFrom("config3.yaml"), RuntimeConfig{2});
  CHECK(runner.executable().target.name == "ipu2");
  CHECK(runner.executable().fusion.subgraphs.size() == 3);

  RunResult r = runner.execute(0, {{"graph0/X", f32({1, 2}, {1, 2})}, {"graph0/Y", f32({1, 2}, {10, 20})}});
  CHECK(floatsOf(r.outputs.at("graph0/O")) == std::vector<float>{11, 22});

  r = runner.execute(1, {{"graph1/X", f16({1, 1}, {-0.5f})}});
  CHECK(r.outputs.at("graph1/O").dtype == DType::Float16);
  CHECK(floatsOf(r.outputs.at("graph1/O")) == std::vector<float>{-0.5f, 1.5f, 2});

  // S = A + B (B broadcast over rows), R = Relu(A - B); no value leaves int8's range.
  const auto a = i8({2, 3}, {1, -2, 3, 100, -100, 50});
  const auto b = i8({3}, {10, -20, 30});
  r = runner.execute(2, {{"graph2/A", a}, {"graph2/B", b}});
  CHECK(r.index == 2u);
  REQUIRE(r.outputs.size() == 2);
  const HostTensor& s = r.outputs.at("graph2/S");
  const HostTensor& relu = r.outputs.at("graph2/R");
  CHECK(s.dtype == DType::Int8);
  CHECK(shapeString(s.shape) == "[2,3]");
  CHECK(relu.dtype == DType::Int8);
  CHECK(shapeString(relu.shape) == "[2,3]");
  CHECK(int8sOf(s) == std::vector<int>{11, -22, 33, 110, -120, 80});
  CHECK(int8sOf(relu) == std::vector<int>{0, 18, 0, 90, 0, 20});

  // Inferred from the int8 inputs, given by anchor name.
  r = runner.execute(std::nullopt, {{"graph2/stream0", a}, {"graph2/stream1", b}});
  CHECK(r.index == 2u);
  CHECK(int8sOf(r.outputs.at("graph2/S")) == std::vector<int>{11, -22, 33, 110, -120, 80});

  CHECK(errorOf([&] { runner.execute(3, {}); }) ==
        "index 3 is out of range: this executable has 3 subgraphs (0..2)");
  checkOneLineContains(
      errorOf([&] { runner.execute(2, {{"graph2/A", f32({2, 3}, {1, 2, 3, 4, 5, 6})}, {"graph2/B", b}}); }),
      {"graph2/stream0", "expected int8 [2,3]", "given float32 [2,3]"});
}

TEST_CASE("single model: its own names, all inputs, no index") {
  ModelRunner runner(singleModel0(), RuntimeConfig{1});
  const auto inputs = runner.inputs();
  REQUIRE(inputs.size() == 2);
  CHECK(inputs[0].name == "X");
  CHECK(inputs[1].name == "Y");
  CHECK(!inputs[0].subgraph);
  REQUIRE(runner.outputs().size() == 1);
  CHECK(runner.outputs()[0].name == "O");

  RunResult r = runner.execute(std::nullopt, {{"X", f32({1, 2}, {1, 1})}, {"Y", f32({1, 2}, {2, 2})}});
  CHECK(!r.index);
  CHECK(floatsOf(r.outputs.at("O")) == std::vector<float>{3, 3});

  checkOneLineContains(errorOf([&] {
                         runner.execute(0, {{"X", f32({1, 2}, {1, 1})}, {"Y", f32({1, 2}, {2, 2})}});
                       }),
                       {"single model", "no index"});
  checkOneLineContains(errorOf([&] { runner.execute(std::nullopt, {{"X", f32({1, 2}, {1, 1})}}); }),
                       {"missing input Y", "float32 [1,2]"});
  checkOneLineContains(errorOf([&] {
                         runner.execute(std::nullopt, {{"X", f32({1, 2}, {1, 1})},
                                                       {"Y", f32({1, 2}, {2, 2})},
                                                       {"index", tensorOf<uint8_t>(DType::UInt8, {1}, {0})}});
                       }),
                       {"unknown input 'index'", "valid inputs are X, Y"});
}

TEST_CASE("ModelRunner reads a .popef, and reports file faults as RuntimeError") {
  const auto dir = std::filesystem::path(IPUSIM_BINARY_DIR) / "tests" / "runtime-work";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "seed.popef").string();
  popef::writePopef(*seedPair(), path);

  ModelRunner runner(path, RuntimeConfig{1});
  CHECK(runner.executable().fusion.subgraphs.size() == 2);
  CHECK(floatsOf(runner.execute(0, seedInputs0()).outputs.at("graph0/O")) == std::vector<float>{3, 3});
  CHECK(floatsOf(runner.execute(1, {{"graph1/X", f16({1, 1}, {0})}}).outputs.at("graph1/O")) ==
        std::vector<float>{0, 1.5f, 2});

  checkOneLineContains(errorOf([&] { ModelRunner missing((dir / "nope.popef").string()); }),
                       {"nope.popef"});

  // A truncated copy.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = (dir / "cut.popef").string();
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  checkOneLineContains(errorOf([&] { ModelRunner truncated(cut); }), {"cut.popef"});
}
