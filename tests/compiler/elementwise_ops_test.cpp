// The elementwise lowering with node-input lists, mixed element types (bool conditions and
// outputs, Pow exponents), N operands and vertex scalars: small ONNX models built here,
// compiled and run on the engine, checked against numpy's broadcasting results.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "compiler/compiler.h"
#include "sim/codelet.h"
#include "sim/engine.h"

using namespace ipusim;

namespace {

template <typename T>
std::vector<uint8_t> bytesOf(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

template <typename T>
std::vector<T> valuesOf(const std::vector<uint8_t>& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

// A one-graph ONNX model, written to the build tree so compileModel can read it.
class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 17) {
    model_.set_ir_version(8);
    model_.add_opset_import()->set_version(opset);
    model_.mutable_graph()->set_name("g");
  }

  void input(const std::string& name, int elemType, const std::vector<int64_t>& dims) {
    describe(model_.mutable_graph()->add_input(), name, elemType, dims);
  }
  void output(const std::string& name, int elemType, const std::vector<int64_t>& dims) {
    describe(model_.mutable_graph()->add_output(), name, elemType, dims);
  }
  template <typename T>
  void initializer(const std::string& name, int elemType, const std::vector<int64_t>& dims,
                   const std::vector<T>& values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(elemType);
    for (int64_t d : dims) t->add_dims(d);
    const auto bytes = bytesOf(values);
    t->set_raw_data(std::string(bytes.begin(), bytes.end()));
  }
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + "_node");
    for (const auto& in : inputs) n->add_input(in);
    for (const auto& out : outputs) n->add_output(out);
    return *n;
  }
  static void floatAttribute(onnx::NodeProto& node, const std::string& name, float value) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }

  ModelOptions save(const std::string& file) const {
    const std::filesystem::path folder = std::filesystem::path(IPUSIM_BINARY_DIR) / "tests" / "elementwise-ops-models";
    std::filesystem::create_directories(folder);
    const std::string path = (folder / file).string();
    std::ofstream(path, std::ios::binary) << model_.SerializeAsString();
    ModelOptions options;
    options.modelPath = path;
    return options;
  }

 private:
  static void describe(onnx::ValueInfoProto* info, const std::string& name, int elemType,
                       const std::vector<int64_t>& dims) {
    info->set_name(name);
    auto* tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(elemType);
    auto* shape = tensor->mutable_shape();
    for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
  }

  onnx::ModelProto model_;
};

HostBuffers run(const Executable& exe, const HostBuffers& inputs) {
  Engine engine(1);
  engine.load(std::make_shared<const Executable>(exe));
  HostBuffers outputs;
  engine.run(inputs, outputs);
  return outputs;
}

bool usesCodelet(const Executable& exe, const std::string& name) {
  for (const auto& c : exe.codelets)
    if (c == name) return true;
  return false;
}

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kBool = onnx::TensorProto::BOOL;
constexpr int kInt64 = onnx::TensorProto::INT64;

}  // namespace

TEST_CASE("Where broadcasts a condition column, a row and a constant scalar") {
  ModelBuilder m;
  m.input("C", kBool, {2, 1});
  m.input("X", kFloat, {3});
  m.initializer<float>("Y", kFloat, {}, {-1.0f});
  m.node("Where", {"C", "X", "Y"}, {"Z"});
  m.output("Z", kFloat, {2, 3});
  const Executable exe = compileModel(m.save("where.onnx"));
  CHECK(usesCodelet(exe, "Where<float32>"));
  const auto out = run(exe, {{"C", bytesOf(std::vector<uint8_t>{1, 0})}, {"X", bytesOf(std::vector<float>{1, 2, 3})}});
  CHECK(valuesOf<float>(out.at("Z")) == std::vector<float>{1, 2, 3, -1, -1, -1});
}

TEST_CASE("the output is laid out like a full-size operand of its own type, so only the bool condition moves") {
  ModelBuilder m;
  m.input("C", kBool, {4096});
  m.input("X", kFloat, {4096});
  m.input("Y", kFloat, {4096});
  m.node("Where", {"C", "X", "Y"}, {"Z"});
  m.output("Z", kFloat, {4096});
  const Executable exe = compileModel(m.save("where_layout.onnx"));
  REQUIRE(exe.exchanges.size() == 1);
  uint64_t moved = 0;
  for (const auto& copy : exe.exchanges[0].copies) moved += copy.bytes;
  CHECK(moved == 4096);  // the condition's bytes; X and Y stay where Z is
  std::set<uint32_t> tiles;
  for (const auto& v : exe.computeSets.at(0).vertices) tiles.insert(v.tile);
  CHECK(tiles.size() == 128);  // spread like X: 32 floats (128 bytes) per tile
}

TEST_CASE("a comparison of broadcast operands gives a bool tensor") {
  ModelBuilder m;
  m.input("A", kFloat, {2, 3});
  m.input("B", kFloat, {3});
  m.node("Greater", {"A", "B"}, {"G"});
  m.output("G", kBool, {2, 3});
  const Executable exe = compileModel(m.save("greater.onnx"));
  const auto out = run(exe, {{"A", bytesOf(std::vector<float>{1, 5, 3, 0, 9, 2})},
                             {"B", bytesOf(std::vector<float>{2, 2, 2})}});
  CHECK(valuesOf<uint8_t>(out.at("G")) == std::vector<uint8_t>{0, 1, 1, 0, 1, 0});
}

TEST_CASE("variadic Sum and Max broadcast all their operands together") {
  ModelBuilder m;
  m.input("A", kFloat, {2, 3});
  m.input("B", kFloat, {3});
  m.input("C", kFloat, {2, 1});
  m.node("Sum", {"A", "B", "C"}, {"S"});
  m.node("Max", {"C", "B"}, {"M"});
  m.output("S", kFloat, {2, 3});
  m.output("M", kFloat, {2, 3});
  const Executable exe = compileModel(m.save("sum_max.onnx"));
  const auto out = run(exe, {{"A", bytesOf(std::vector<float>{1, 2, 3, 4, 5, 6})},
                             {"B", bytesOf(std::vector<float>{10, 20, 30})},
                             {"C", bytesOf(std::vector<float>{100, 0})}});
  CHECK(valuesOf<float>(out.at("S")) == std::vector<float>{111, 122, 133, 14, 25, 36});
  CHECK(valuesOf<float>(out.at("M")) == std::vector<float>{100, 100, 100, 10, 20, 30});
}

TEST_CASE("Clip: constant bounds become vertex scalars, a run-time bound an operand") {
  ModelBuilder m;
  m.input("X", kFloat, {4});
  m.input("Lo", kFloat, {});
  m.initializer<float>("Min", kFloat, {}, {-1.0f});
  m.initializer<float>("Max", kFloat, {}, {2.0f});
  m.node("Clip", {"X", "Min", "Max"}, {"Constant"});
  m.node("Clip", {"X", "Lo"}, {"RunTime"}).set_name("Clip_runtime");
  m.output("Constant", kFloat, {4});
  m.output("RunTime", kFloat, {4});
  const Executable exe = compileModel(m.save("clip.onnx"));
  CHECK(usesCodelet(exe, "BroadcastClip<float32>"));
  CHECK(usesCodelet(exe, "Max<float32>"));  // numpy.clip(x, lo, None) = maximum(x, lo)
  size_t clipVertices = 0;
  for (const auto& cs : exe.computeSets) {
    for (const auto& v : cs.vertices) {
      if (exe.codelets.at(v.codelet) != "BroadcastClip<float32>") continue;
      CHECK(v.scalars == std::vector<int64_t>{scalarFromDouble(-1.0), scalarFromDouble(2.0)});
      ++clipVertices;
    }
  }
  CHECK(clipVertices > 0);
  const auto out = run(exe, {{"X", bytesOf(std::vector<float>{-5, 0, 1.5f, 7})}, {"Lo", bytesOf(std::vector<float>{1})}});
  CHECK(valuesOf<float>(out.at("Constant")) == std::vector<float>{-1, 0, 1.5f, 2});
  CHECK(valuesOf<float>(out.at("RunTime")) == std::vector<float>{1, 1, 1.5f, 7});
}

TEST_CASE("Pow keeps the float base's type with an int64 exponent") {
  ModelBuilder m;
  m.input("X", kFloat, {3});
  m.input("E", kInt64, {3});
  m.node("Pow", {"X", "E"}, {"P"});
  m.output("P", kFloat, {3});
  const Executable exe = compileModel(m.save("pow.onnx"));
  CHECK(usesCodelet(exe, "Pow<float32,int64>"));
  const auto out = run(exe, {{"X", bytesOf(std::vector<float>{2, 3, 4})}, {"E", bytesOf(std::vector<int64_t>{3, 2, -1})}});
  CHECK(valuesOf<float>(out.at("P")) == std::vector<float>{8, 9, 0.25f});
}

TEST_CASE("an activation's attribute reaches every vertex as a scalar") {
  ModelBuilder m;
  m.input("X", kFloat, {3});
  ModelBuilder::floatAttribute(m.node("LeakyRelu", {"X"}, {"Y"}), "alpha", 0.5f);
  m.output("Y", kFloat, {3});
  const Executable exe = compileModel(m.save("leaky_relu.onnx"));
  for (const auto& v : exe.computeSets.at(0).vertices) CHECK(v.scalars == std::vector<int64_t>{scalarFromDouble(0.5)});
  const auto out = run(exe, {{"X", bytesOf(std::vector<float>{-4, 0, 3})}});
  CHECK(valuesOf<float>(out.at("Y")) == std::vector<float>{-2, 0, 3});
}

TEST_CASE("Dropout in inference is the identity with a mask of ones; training is refused") {
  ModelBuilder inference(13);
  inference.input("X", kFloat, {2, 2});
  inference.node("Dropout", {"X"}, {"Y", "Mask"});
  inference.output("Y", kFloat, {2, 2});
  inference.output("Mask", kBool, {2, 2});
  const Executable exe = compileModel(inference.save("dropout.onnx"));
  CHECK(exe.computeSets.empty());
  const auto out = run(exe, {{"X", bytesOf(std::vector<float>{1, 2, 3, 4})}});
  CHECK(valuesOf<float>(out.at("Y")) == std::vector<float>{1, 2, 3, 4});
  CHECK(valuesOf<uint8_t>(out.at("Mask")) == std::vector<uint8_t>{1, 1, 1, 1});

  ModelBuilder training(13);
  training.input("X", kFloat, {2});
  training.initializer<float>("R", kFloat, {}, {0.5f});
  training.initializer<uint8_t>("T", kBool, {}, {1});
  training.node("Dropout", {"X", "R", "T"}, {"Y"});
  training.output("Y", kFloat, {2});
  CHECK_THROWS_WITH_AS(compileModel(training.save("dropout_training.onnx")),
                       doctest::Contains("Dropout in training mode with a ratio above 0"), CompileError);
}
