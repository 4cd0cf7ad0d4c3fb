// Layout ops whose parameters arrive at run time (Slice starts, Pad pads, Gather indices, ...)
// run codelets next to each output chunk. On outputs spread over several tiles they must give
// exactly what the compile-time plan gives for the same values (the exchange tests check that
// plan against the ONNX definitions), and refuse run-time values that disagree with the
// compiled shape instead of computing wrong numbers.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "layout_test_support.h"
#include "sim/error.h"

using namespace ipusim;
using namespace ipusim::layout_test;

namespace {

struct Param {
  std::string name;
  int type;
  Shape shape;
  std::vector<uint8_t> bytes;
};

template <typename T>
Param param(const std::string& name, int type, const Shape& shape, const std::vector<T>& values) {
  return {name, type, shape, bytesOf(values)};
}

// One node whose parameters are either initializers (compile-time plan) or graph inputs
// (run-time codelets); X and the parameters are fed, Y is returned.
struct NodeCase {
  std::string op;
  std::vector<std::string> inputs;  // X, then parameter names ("" for an absent optional input)
  std::vector<Param> params;
  Shape xShape, yShape;
  int xType = kFloat, yType = kFloat;
  std::function<void(Model&)> attributes = [](Model&) {};

  Executable compile(bool constant, const std::string& file) const {
    Model m;
    m.input("X", xType, xShape);
    for (const auto& p : params) {
      if (constant) {
        m.initializer<uint8_t>(p.name, p.type, p.shape, p.bytes);
      } else {
        m.input(p.name, p.type, p.shape);
      }
    }
    m.node(op, inputs, {"Y"});
    attributes(m);
    m.output("Y", yType, yShape);
    return m.compile(file + (constant ? "_constant.onnx" : "_runtime.onnx"));
  }

  std::vector<uint8_t> run(bool constant, const std::string& file, const std::vector<uint8_t>& x) const {
    HostBuffers feeds{{"X", x}};
    if (!constant)
      for (const auto& p : params) feeds[p.name] = p.bytes;
    return layout_test::run(compile(constant, file), feeds).at("Y");
  }

  // Both plans agree; returns the result.
  std::vector<uint8_t> check(const std::string& file, const std::vector<uint8_t>& x) const {
    const auto compiled = run(true, file, x);
    const auto dynamic = run(false, file, x);
    CHECK(compiled == dynamic);
    return dynamic;
  }
};

bool usesCodelet(const Executable& exe, const std::string& name) {
  return std::find(exe.codelets.begin(), exe.codelets.end(), name) != exe.codelets.end();
}

size_t tilesOf(const Executable& exe, const std::string& anchor) { return anchorVariable(exe, anchor).mapping.size(); }

}  // namespace

TEST_CASE("Slice with run-time starts, ends, axes and steps (int64 and int32)") {
  for (const int type : {kInt64, kInt32}) {
    CAPTURE(type);
    auto values = [type](const std::string& name, std::vector<int64_t> v) {
      if (type == kInt64) return param(name, type, {static_cast<int64_t>(v.size())}, v);
      return param(name, type, {static_cast<int64_t>(v.size())}, std::vector<int32_t>(v.begin(), v.end()));
    };
    NodeCase c{"Slice",
               {"X", "starts", "ends", "axes", "steps"},
               {values("starts", {-2, 3}), values("ends", {1, 38}), values("axes", {1, -2}), values("steps", {-3, 1})},
               {40, 33},
               {35, 10}};
    const auto y = valuesOf<float>(c.check("slice_dynamic", bytesOf(iota(40 * 33))));
    CHECK(y[0] == 3 * 33 + 31);
    CHECK(y.back() == 37 * 33 + 4);
    const Executable exe = c.compile(false, "slice_dynamic");
    CHECK(usesCodelet(exe, "DynamicSlice<float32>"));
    CHECK(tilesOf(exe, "Y") > 2);
  }
}

TEST_CASE("run-time parameters that disagree with the compiled shape are an error, not wrong numbers") {
  NodeCase c{"Slice",
             {"X", "starts", "ends"},
             {param<int64_t>("starts", kInt64, {1}, {0}), param<int64_t>("ends", kInt64, {1}, {20})},
             {40, 33},
             {20, 33}};
  const Executable exe = c.compile(false, "slice_mismatch");
  HostBuffers feeds{{"X", bytesOf(iota(40 * 33))},
                    {"starts", bytesOf(std::vector<int64_t>{0})},
                    {"ends", bytesOf(std::vector<int64_t>{21})}};
  CHECK_THROWS_AS(run(exe, feeds), SimError);
}

TEST_CASE("Pad with run-time pads and value, every mode") {
  for (const std::string mode : {"constant", "reflect", "edge"}) {
    CAPTURE(mode);
    NodeCase c{"Pad",
               {"X", "pads", "value"},
               {param<int64_t>("pads", kInt64, {4}, {2, 3, 4, 5}), param<float>("value", kFloat, {}, {-7.5f})},
               {30, 31},
               {36, 39}};
    c.attributes = [mode](Model& m) { m.text("mode", mode); };
    c.check("pad_dynamic_" + mode, bytesOf(iota(30 * 31)));
  }
}

TEST_CASE("Gather with run-time indices: slabs for a small table, column blocks for a large one") {
  const std::vector<int64_t> indices{17, -1, 0, 99, 5, 5, 42, -100, 63, 12, 7, 88};
  // Small table: each output chunk receives the table and its indices.
  NodeCase small{"Gather", {"X", "indices"}, {param("indices", kInt64, {12}, indices)}, {100, 13}, {12, 13}};
  small.check("gather_slabs", bytesOf(iota(100 * 13)));
  CHECK(usesCodelet(small.compile(false, "gather_slabs"), "Gather<float32>"));

  // A 3000 x 64 table (768 KB) does not fit next to each output chunk: column blocks.
  std::vector<int64_t> many(40);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<int64_t>((i * 977) % 3000) - (i % 5 == 0 ? 3000 : 0);
  NodeCase large{"Gather", {"X", "indices"}, {param("indices", kInt64, {40}, many)}, {3000, 64}, {40, 64}};
  const auto y = valuesOf<float>(large.check("gather_columns", bytesOf(iota(3000 * 64))));
  for (size_t i = 0; i < many.size(); ++i) {
    const int64_t row = many[i] < 0 ? many[i] + 3000 : many[i];
    CHECK(y[i * 64 + 7] == static_cast<float>(row * 64 + 7));
  }
  CHECK(usesCodelet(large.compile(false, "gather_columns"), "GatherRows<float32>"));

  // The same with a constant table laid out in column blocks at compile time.
  Model m;
  m.initializer<float>("X", kFloat, {3000, 64}, iota(3000 * 64));
  m.input("indices", kInt64, {40});
  m.node("Gather", {"X", "indices"}, {"Y"});
  m.output("Y", kFloat, {40, 64});
  const Executable exe = m.compile("gather_constant_table.onnx");
  CHECK(usesCodelet(exe, "GatherRows<float32>"));
  CHECK(bytesOf(y) == run(exe, {{"indices", bytesOf(many)}}).at("Y"));

  // Axis 1 of a table with outer rows: columns cross outer slabs.
  std::vector<int64_t> picks{2999, 0, -5, 1234};
  NodeCase axis1{"Gather", {"X", "indices"}, {param("indices", kInt64, {4}, picks)}, {5, 3000, 11}, {5, 4, 11}};
  axis1.attributes = [](Model& model) { model.integer("axis", 1); };
  axis1.check("gather_axis1", bytesOf(iota(5 * 3000 * 11)));
  CHECK(usesCodelet(axis1.compile(false, "gather_axis1"), "GatherRows<float32>"));
}

TEST_CASE("GatherElements and GatherND with run-time indices") {
  std::vector<int64_t> indices(37 * 29);
  for (size_t e = 0; e < indices.size(); ++e) indices[e] = static_cast<int64_t>((e * 7919) % 29) - (e % 3 == 0 ? 29 : 0);
  NodeCase elements{"GatherElements", {"X", "indices"}, {param("indices", kInt64, {37, 29}, indices)}, {37, 29}, {37, 29}};
  elements.attributes = [](Model& m) { m.integer("axis", 1); };
  elements.check("gather_elements_dynamic", bytesOf(iota(37 * 29)));

  const std::vector<int64_t> tuples{3, 0, 49, -1, 7, 7, 12, 30, 1, 2, 44, 5};
  NodeCase nd{"GatherND", {"X", "indices"}, {param("indices", kInt64, {6, 2}, tuples)}, {50, 40, 6}, {6, 6}};
  nd.check("gather_nd_dynamic", bytesOf(iota(50 * 40 * 6)));
}

TEST_CASE("ScatterElements and ScatterND: none, add and mul over several tiles") {
  const std::vector<int64_t> indices{0, 36, -1, 5, 5, 20};  // duplicates add up or multiply
  std::vector<float> updates{1, 2, 3, 4, 5, 6};
  for (const std::string reduction : {"none", "add", "mul"}) {
    CAPTURE(reduction);
    Model m;
    m.input("X", kFloat, {37, 29});
    m.input("indices", kInt64, {6, 1});
    m.input("updates", kFloat, {6, 1});
    m.node("ScatterElements", {"X", "indices", "updates"}, {"Y"}).integer("axis", 0).text("reduction", reduction);
    m.output("Y", kFloat, {37, 29});
    const Executable exe = m.compile("scatter_elements_" + reduction + ".onnx");
    CHECK(tilesOf(exe, "Y") > 2);
    const auto x = iota(37 * 29);
    auto y = valuesOf<float>(run(exe, {{"X", bytesOf(x)}, {"indices", bytesOf(indices)}, {"updates", bytesOf(updates)}}).at("Y"));
    std::vector<float> expected = x;
    for (size_t u = 0; u < indices.size(); ++u) {
      float& target = expected[static_cast<size_t>((indices[u] < 0 ? indices[u] + 37 : indices[u]) * 29)];
      target = reduction == "none" ? updates[u] : reduction == "add" ? target + updates[u] : target * updates[u];
    }
    if (reduction == "none") expected[5 * 29] = y[5 * 29];  // duplicates without reduction: either update
    CHECK(y == expected);
  }

  Model m;  // ScatterND: whole rows of a [37, 29] matrix
  m.input("X", kFloat, {37, 29});
  m.input("indices", kInt64, {3, 1});
  m.input("updates", kFloat, {3, 29});
  m.node("ScatterND", {"X", "indices", "updates"}, {"Y"}).text("reduction", "add");
  m.output("Y", kFloat, {37, 29});
  const auto rows = std::vector<int64_t>{36, 0, 36};
  const auto y = valuesOf<float>(run(m.compile("scatter_nd_add.onnx"), {{"X", bytesOf(iota(37 * 29))},
                                                                           {"indices", bytesOf(rows)},
                                                                           {"updates", bytesOf(std::vector<float>(87, 1.0f))}})
                                     .at("Y"));
  CHECK(y[0] == 1.0f);
  CHECK(y[36 * 29 + 28] == 36 * 29 + 28 + 2.0f);
  CHECK(y[1 * 29] == 29.0f);
}

TEST_CASE("OneHot, Trilu and ReverseSequence with run-time values on several tiles") {
  std::vector<int64_t> indices(50);
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i % 45) - 2;  // -2..42: some off
  Model m;
  m.input("X", kInt64, {50});
  m.input("depth", kInt64, {});
  m.input("values", kFloat, {2});
  m.node("OneHot", {"X", "depth", "values"}, {"Y"});
  m.output("Y", kFloat, {50, 40});
  const Executable exe = m.compile("one_hot.onnx");
  CHECK(tilesOf(exe, "Y") > 2);
  const auto y = valuesOf<float>(run(exe, {{"X", bytesOf(indices)},
                                           {"depth", bytesOf(std::vector<int64_t>{40})},
                                           {"values", bytesOf(std::vector<float>{-1, 3})}})
                                     .at("Y"));
  for (size_t i = 0; i < 50; ++i) {
    const int64_t hot = indices[i] < 0 ? indices[i] + 40 : indices[i];
    for (int64_t c = 0; c < 40; ++c) CHECK(y[i * 40 + static_cast<size_t>(c)] == (c == hot ? 3.0f : -1.0f));
  }
  CHECK_THROWS_AS(run(exe, {{"X", bytesOf(indices)},
                            {"depth", bytesOf(std::vector<int64_t>{41})},
                            {"values", bytesOf(std::vector<float>{-1, 3})}}),
                  SimError);

  for (const int64_t upper : {0, 1}) {
    NodeCase trilu{"Trilu", {"X", "k"}, {param<int64_t>("k", kInt64, {}, {-3})}, {3, 37, 29}, {3, 37, 29}};
    trilu.attributes = [upper](Model& model) { model.integer("upper", upper); };
    const auto t = valuesOf<float>(trilu.check("trilu_" + std::to_string(upper), bytesOf(iota(3 * 37 * 29))));
    for (size_t e = 0; e < t.size(); ++e) {
      const int64_t r = static_cast<int64_t>(e / 29 % 37), col = static_cast<int64_t>(e % 29);
      const bool keep = upper ? col - r >= -3 : col - r <= -3;
      CHECK(t[e] == (keep ? static_cast<float>(e) : 0.0f));
    }
  }

  std::vector<int64_t> lens(29);
  for (size_t b = 0; b < lens.size(); ++b) lens[b] = static_cast<int64_t>((b * 5) % 38);
  NodeCase reverse{"ReverseSequence", {"X", "lens"}, {param("lens", kInt64, {29}, lens)}, {37, 29}, {37, 29}};
  reverse.attributes = [](Model& model) { model.integer("time_axis", 0).integer("batch_axis", 1); };
  reverse.check("reverse_sequence_dynamic", bytesOf(iota(37 * 29)));
}

TEST_CASE("Range with run-time bounds, float and int") {
  Model m;
  m.input("start", kFloat, {});
  m.input("limit", kFloat, {});
  m.input("delta", kFloat, {});
  m.node("Range", {"start", "limit", "delta"}, {"Y"});
  m.output("Y", kFloat, {300});
  const auto y = valuesOf<float>(run(m.compile("range_float.onnx"), {{"start", bytesOf(std::vector<float>{1.5f})},
                                                                      {"limit", bytesOf(std::vector<float>{-88.5f})},
                                                                      {"delta", bytesOf(std::vector<float>{-0.3f})}})
                                     .at("Y"));
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(1.5 - 0.3 * static_cast<double>(i)).epsilon(1e-6));

  Model n;
  n.input("start", kInt32, {});
  n.input("limit", kInt32, {});
  n.input("delta", kInt32, {});
  n.node("Range", {"start", "limit", "delta"}, {"Y"});
  n.output("Y", kInt32, {100});
  const auto z = valuesOf<int32_t>(run(n.compile("range_int.onnx"), {{"start", bytesOf(std::vector<int32_t>{-7})},
                                                                      {"limit", bytesOf(std::vector<int32_t>{293})},
                                                                      {"delta", bytesOf(std::vector<int32_t>{3})}})
                                       .at("Y"));
  for (size_t i = 0; i < z.size(); ++i) CHECK(z[i] == -7 + 3 * static_cast<int32_t>(i));
}

TEST_CASE("Resize with run-time scales gives the compile-time result; linear and cubic") {
  for (const std::string mode : {"nearest", "linear", "cubic"}) {
    CAPTURE(mode);
    NodeCase c{"Resize", {"X", "", "scales"}, {param<float>("scales", kFloat, {4}, {1, 1, 2.5f, 0.6f})}, {1, 2, 13, 17}, {1, 2, 32, 10}};
    c.attributes = [mode](Model& m) { m.text("mode", mode); };
    std::vector<float> x(2 * 13 * 17);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) / 7.0f;
    c.check("resize_" + mode, bytesOf(x));
  }
}
