// Exchange plans of the layout ops with compile-time parameters (DESIGN.md section 5): on
// tensors spread over several tiles with a remainder tile, each op must move X into Y by
// exactly the maximal contiguous runs of its index map, and put every element where the
// ONNX definition says (checked by replaying the copies on element identities).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "layout_test_support.h"

using namespace ipusim;
using namespace ipusim::layout_test;

namespace {

bool pureExchange(const Executable& exe) { return exe.computeSets.empty() && exe.exchanges.size() == 1; }

// `exe` with only the copies that write into the variable of `anchor`.
Executable copiesInto(const Executable& exe, const std::string& anchor) {
  Executable only = exe;
  const Variable& dst = anchorVariable(exe, anchor);
  for (auto& exchange : only.exchanges) {
    std::erase_if(exchange.copies, [&](const Copy& c) { return elementAt(dst, c.dstTile, c.dstOffset) < 0; });
  }
  return only;
}

}  // namespace

TEST_CASE("Transpose of a 37x29 matrix over 32 tiles copies single elements, merged nowhere") {
  Model m;
  m.input("X", kFloat, {37, 29});
  m.node("Transpose", {"X"}, {"Y"});
  m.output("Y", kFloat, {29, 37});
  const Executable exe = m.compile("transpose_2d.onnx");
  CHECK(pureExchange(exe));
  CHECK(anchorVariable(exe, "Y").mapping.size() == 32);
  checkExchangePlan(exe, referenceMap({29, 37}, [](const auto& i) { return i[1] * 29 + i[0]; }));
}

TEST_CASE("Transpose keeping the innermost axis copies whole rows") {
  Model m;
  m.input("X", kFloat, {6, 50, 9});
  m.node("Transpose", {"X"}, {"Y"}).ints("perm", {1, 0, 2});
  m.output("Y", kFloat, {50, 6, 9});
  const Executable exe = m.compile("transpose_rows.onnx");
  CHECK(pureExchange(exe));
  checkExchangePlan(exe, referenceMap({50, 6, 9}, [](const auto& i) { return i[1] * 450 + i[0] * 9 + i[2]; }));
}

TEST_CASE("Slice with constant starts, a negative step and a clamped end") {
  Model m;
  m.input("X", kFloat, {40, 33});
  m.initializer<int64_t>("starts", kInt64, {2}, {3, -2});
  m.initializer<int64_t>("ends", kInt64, {2}, {38, 1});
  m.initializer<int64_t>("axes", kInt64, {2}, {0, 1});
  m.initializer<int64_t>("steps", kInt64, {2}, {1, -3});
  m.node("Slice", {"X", "starts", "ends", "axes", "steps"}, {"Y"});
  m.output("Y", kFloat, {35, 10});
  const Executable exe = m.compile("slice_steps.onnx");
  CHECK(pureExchange(exe));
  checkExchangePlan(exe, referenceMap({35, 10}, [](const auto& i) { return (3 + i[0]) * 33 + 31 - 3 * i[1]; }));
}

TEST_CASE("Slice of whole rows merges across rows into one run per tile pair") {
  Model m;
  m.input("X", kFloat, {40, 33});
  m.initializer<int64_t>("starts", kInt64, {1}, {5});
  m.initializer<int64_t>("ends", kInt64, {1}, {INT64_MAX});
  m.initializer<int64_t>("axes", kInt64, {1}, {0});
  m.node("Slice", {"X", "starts", "ends", "axes"}, {"Y"});
  m.output("Y", kFloat, {35, 33});
  const Executable exe = m.compile("slice_rows.onnx");
  const auto expected = referenceMap({35, 33}, [](const auto& i) { return (5 + i[0]) * 33 + i[1]; });
  checkExchangePlan(exe, expected);
  CHECK(replay(exe, "X", "Y").copies < 70);  // runs break only at tile boundaries
}

TEST_CASE("Slice that takes everything aliases its input") {
  Model m;
  m.input("X", kFloat, {40, 33});
  m.initializer<int64_t>("starts", kInt64, {1}, {0});
  m.initializer<int64_t>("ends", kInt64, {1}, {40});
  m.node("Slice", {"X", "starts", "ends"}, {"Y"});
  m.output("Y", kFloat, {40, 33});
  const Executable exe = m.compile("slice_all.onnx");
  CHECK(exe.exchanges.empty());
  CHECK(exe.findStream("Y")->variable == exe.findStream("X")->variable);
}

TEST_CASE("Split moves both parts in one exchange") {
  Model m;
  m.input("X", kFloat, {41, 27});
  m.initializer<int64_t>("split", kInt64, {2}, {13, 28});
  m.node("Split", {"X", "split"}, {"Y", "Z"}).integer("axis", 0);
  m.output("Y", kFloat, {13, 27});
  m.output("Z", kFloat, {28, 27});
  const Executable exe = m.compile("split.onnx");
  REQUIRE(exe.exchanges.size() == 1);
  checkExchangePlan(copiesInto(exe, "Y"), referenceMap({13, 27}, [](const auto& i) { return i[0] * 27 + i[1]; }));
  checkExchangePlan(copiesInto(exe, "Z"), referenceMap({28, 27}, [](const auto& i) { return (13 + i[0]) * 27 + i[1]; }),
                    "X", "Z");
}

TEST_CASE("Tile repeats the input's rows and columns") {
  Model m;
  m.input("X", kFloat, {7, 13});
  m.initializer<int64_t>("repeats", kInt64, {2}, {3, 4});
  m.node("Tile", {"X", "repeats"}, {"Y"});
  m.output("Y", kFloat, {21, 52});
  const Executable exe = m.compile("tile.onnx");
  CHECK(pureExchange(exe));
  checkExchangePlan(exe, referenceMap({21, 52}, [](const auto& i) { return i[0] % 7 * 13 + i[1] % 13; }));
}

TEST_CASE("Expand broadcasts a row and a column") {
  for (const bool row : {true, false}) {
    CAPTURE(row);
    Model m;
    m.input("X", kFloat, row ? Shape{1, 37} : Shape{29, 1});
    m.initializer<int64_t>("shape", kInt64, {2}, {29, 37});
    m.node("Expand", {"X", "shape"}, {"Y"});
    m.output("Y", kFloat, {29, 37});
    const Executable exe = m.compile(row ? "expand_row.onnx" : "expand_column.onnx");
    CHECK(pureExchange(exe));
    checkExchangePlan(exe, referenceMap({29, 37}, [row](const auto& i) { return row ? i[1] : i[0]; }));
  }
}

TEST_CASE("Pad reflect, edge and constant") {
  const Shape in{30, 31}, out{36, 39};
  const std::vector<int64_t> before{2, 3};
  auto reflect = [](int64_t j, int64_t n) { return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j; };
  auto edge = [](int64_t j, int64_t n) { return std::clamp<int64_t>(j, 0, n - 1); };
  for (const std::string mode : {"reflect", "edge", "constant"}) {
    CAPTURE(mode);
    Model m;
    m.input("X", kFloat, in);
    m.initializer<int64_t>("pads", kInt64, {4}, {2, 3, 4, 5});
    m.initializer<float>("value", kFloat, {}, {2.5f});
    m.node("Pad", {"X", "pads", "value"}, {"Y"}).text("mode", mode);
    m.output("Y", kFloat, out);
    const Executable exe = m.compile("pad_" + mode + ".onnx");
    const auto expected = referenceMap(out, [&](const auto& i) -> int64_t {
      int64_t from = 0;
      for (size_t d = 0; d < 2; ++d) {
        const int64_t j = i[d] - before[d];
        const int64_t k = mode == "reflect" ? reflect(j, in[d]) : mode == "edge" ? edge(j, in[d]) : j;
        if (k < 0 || k >= in[d]) return -1;
        from = from * in[d] + k;
      }
      return from;
    });
    checkExchangePlan(exe, expected);
    CHECK(exe.computeSets.size() == (mode == "constant" ? 1u : 0u));  // the border's Fill
    const auto y = valuesOf<float>(run(exe, {{"X", bytesOf(iota(30 * 31))}}).at("Y"));
    for (size_t e = 0; e < y.size(); ++e) CHECK(y[e] == (expected[e] < 0 ? 2.5f : static_cast<float>(expected[e])));
  }
}

TEST_CASE("DepthToSpace in DCR and CRD order, and SpaceToDepth") {
  const int64_t b = 3, c = 4, h = 5, w = 7;
  for (const std::string mode : {"DCR", "CRD"}) {
    CAPTURE(mode);
    Model m;
    m.input("X", kFloat, {2, c * b * b, h, w});
    m.node("DepthToSpace", {"X"}, {"Y"}).integer("blocksize", b).text("mode", mode);
    m.output("Y", kFloat, {2, c, h * b, w * b});
    const Executable exe = m.compile("depth_to_space_" + mode + ".onnx");
    CHECK(pureExchange(exe));
    checkExchangePlan(exe, referenceMap({2, c, h * b, w * b}, [&](const auto& i) {
      const int64_t bh = i[2] % b, bw = i[3] % b;
      const int64_t channel = mode == "DCR" ? (bh * b + bw) * c + i[1] : i[1] * b * b + bh * b + bw;
      return ((i[0] * c * b * b + channel) * h + i[2] / b) * w + i[3] / b;
    }));
  }
  Model m;
  m.input("X", kFloat, {2, c, h * b, w * b});
  m.node("SpaceToDepth", {"X"}, {"Y"}).integer("blocksize", b);
  m.output("Y", kFloat, {2, c * b * b, h, w});
  const Executable exe = m.compile("space_to_depth.onnx");
  checkExchangePlan(exe, referenceMap({2, c * b * b, h, w}, [&](const auto& i) {
    const int64_t block = i[1] / c, channel = i[1] % c;
    return ((i[0] * c + channel) * h * b + i[2] * b + block / b) * w * b + i[3] * b + block % b;
  }));
}

TEST_CASE("Gather with constant indices, negative ones included, on axis 0 and axis 1") {
  const std::vector<int64_t> rows{17, -1, -100, 99, 0, 5, 5, 42, 3, 8, 13, 21, 34, 55, 89, -2, 64};
  Model m;
  m.input("X", kFloat, {100, 13});
  m.initializer<int64_t>("indices", kInt64, {17}, rows);
  m.node("Gather", {"X", "indices"}, {"Y"});
  m.output("Y", kFloat, {17, 13});
  const Executable exe = m.compile("gather_rows.onnx");
  CHECK(pureExchange(exe));
  checkExchangePlan(exe, referenceMap({17, 13}, [&](const auto& i) {
    const int64_t r = rows[static_cast<size_t>(i[0])];
    return (r < 0 ? r + 100 : r) * 13 + i[1];
  }));

  const std::vector<int64_t> columns{2, 3, 3, -1, 0, 12};
  Model n;
  n.input("X", kFloat, {100, 13});
  n.initializer<int64_t>("indices", kInt64, {2, 3}, columns);
  n.node("Gather", {"X", "indices"}, {"Y"}).integer("axis", 1);
  n.output("Y", kFloat, {100, 2, 3});
  checkExchangePlan(n.compile("gather_columns.onnx"), referenceMap({100, 2, 3}, [&](const auto& i) {
    const int64_t col = columns[static_cast<size_t>(i[1] * 3 + i[2])];
    return i[0] * 13 + (col < 0 ? col + 13 : col);
  }));
}

TEST_CASE("GatherElements and GatherND with constant indices") {
  std::vector<int64_t> indices(37 * 29);
  for (size_t e = 0; e < indices.size(); ++e) indices[e] = static_cast<int64_t>((e * 7919) % 37) - (e % 3 == 0 ? 37 : 0);
  Model m;
  m.input("X", kFloat, {37, 29});
  m.initializer<int64_t>("indices", kInt64, {37, 29}, indices);
  m.node("GatherElements", {"X", "indices"}, {"Y"}).integer("axis", 0);
  m.output("Y", kFloat, {37, 29});
  checkExchangePlan(m.compile("gather_elements.onnx"), referenceMap({37, 29}, [&](const auto& i) {
    const int64_t r = indices[static_cast<size_t>(i[0] * 29 + i[1])];
    return (r < 0 ? r + 37 : r) * 29 + i[1];
  }));

  const std::vector<int64_t> tuples{3, 0, 49, -1, 7, 7, 12, 30, 1, 2, 44, 5};
  Model n;
  n.input("X", kFloat, {50, 40, 6});
  n.initializer<int64_t>("indices", kInt64, {6, 2}, tuples);
  n.node("GatherND", {"X", "indices"}, {"Y"});
  n.output("Y", kFloat, {6, 6});
  Model p;  // batch_dims 1: each batch row picks its own slices
  p.input("X", kFloat, {12, 40, 6});
  const std::vector<int64_t> picks{3, 0, 39, -1, 7, 7, 12, 30, 1, 2, -40, 5};
  p.initializer<int64_t>("indices", kInt64, {12, 1}, picks);
  p.node("GatherND", {"X", "indices"}, {"Y"}).integer("batch_dims", 1);
  p.output("Y", kFloat, {12, 6});
  // Whole [40, 7] slices selected by one index each, over many tiles.
  const std::vector<int64_t> slabs{3, 0, 49, -1, 7, 7, 12, 30, 1, 2, 44, 5, 18, -50, 33, 21, 9, 40, 41, 6, 17, 16, 15, 14, 29, 28, 27, 26, 8, 10};
  Model q;
  q.input("X", kFloat, {50, 40, 7});
  q.initializer<int64_t>("indices", kInt64, {30, 1}, slabs);
  q.node("GatherND", {"X", "indices"}, {"Y"});
  q.output("Y", kFloat, {30, 40, 7});
  checkExchangePlan(q.compile("gather_nd_slabs.onnx"), referenceMap({30, 40, 7}, [&](const auto& i) {
    const int64_t s = slabs[static_cast<size_t>(i[0])];
    return ((s < 0 ? s + 50 : s) * 40 + i[1]) * 7 + i[2];
  }));

  const auto y = valuesOf<float>(run(n.compile("gather_nd.onnx"), {{"X", bytesOf(iota(50 * 40 * 6))}}).at("Y"));
  for (size_t t = 0; t < 6; ++t) {
    const int64_t a = tuples[2 * t], bb = tuples[2 * t + 1] < 0 ? tuples[2 * t + 1] + 40 : tuples[2 * t + 1];
    for (int64_t k = 0; k < 6; ++k) CHECK(y[t * 6 + static_cast<size_t>(k)] == static_cast<float>((a * 40 + bb) * 6 + k));
  }
  const auto z = valuesOf<float>(run(p.compile("gather_nd_batch.onnx"), {{"X", bytesOf(iota(12 * 40 * 6))}}).at("Y"));
  for (size_t t = 0; t < 12; ++t) {
    const int64_t r = picks[t] < 0 ? picks[t] + 40 : picks[t];
    for (int64_t k = 0; k < 6; ++k)
      CHECK(z[t * 6 + static_cast<size_t>(k)] == static_cast<float>((static_cast<int64_t>(t) * 40 + r) * 6 + k));
  }
}

TEST_CASE("Resize nearest with constant scales is an exchange") {
  Model m;
  m.input("X", kFloat, {1, 2, 13, 19});
  m.initializer<float>("scales", kFloat, {4}, {1, 1, 2, 3});
  m.node("Resize", {"X", "", "scales"}, {"Y"}).text("mode", "nearest");
  m.output("Y", kFloat, {1, 2, 26, 57});
  const Executable exe = m.compile("resize_nearest.onnx");
  CHECK(pureExchange(exe));
  // half_pixel coordinates, round_prefer_floor: x -> (x + 0.5) / s - 0.5, rounded, clamped.
  auto nearest = [](int64_t x, double s, int64_t n) {
    const double c = (static_cast<double>(x) + 0.5) / s - 0.5;
    const double f = std::floor(c);
    const int64_t i = static_cast<int64_t>(c - f > 0.5 ? f + 1 : f);
    return std::clamp<int64_t>(i, 0, n - 1);
  };
  checkExchangePlan(exe, referenceMap({1, 2, 26, 57}, [&](const auto& i) {
    return (i[1] * 13 + nearest(i[2], 2, 13)) * 19 + nearest(i[3], 3, 19);
  }));
}

TEST_CASE("ReverseSequence with constant lengths and Compress with a constant condition") {
  std::vector<int64_t> lens(29);
  for (size_t b = 0; b < lens.size(); ++b) lens[b] = static_cast<int64_t>((b * 5) % 38);
  Model m;
  m.input("X", kFloat, {37, 29});
  m.initializer<int64_t>("lens", kInt64, {29}, lens);
  m.node("ReverseSequence", {"X", "lens"}, {"Y"}).integer("time_axis", 0).integer("batch_axis", 1);
  m.output("Y", kFloat, {37, 29});
  checkExchangePlan(m.compile("reverse_sequence.onnx"), referenceMap({37, 29}, [&](const auto& i) {
    const int64_t len = lens[static_cast<size_t>(i[1])];
    return (i[0] < len ? len - 1 - i[0] : i[0]) * 29 + i[1];
  }));

  std::vector<uint8_t> keep(33);
  std::vector<int64_t> kept;
  for (size_t j = 0; j < keep.size(); ++j) {
    keep[j] = j % 4 != 1;
    if (keep[j]) kept.push_back(static_cast<int64_t>(j));
  }
  Model n;
  n.input("X", kFloat, {40, 33});
  n.initializer<uint8_t>("keep", kBool, {33}, keep);
  n.node("Compress", {"X", "keep"}, {"Y"}).integer("axis", 1);
  n.output("Y", kFloat, {40, static_cast<int64_t>(kept.size())});
  checkExchangePlan(n.compile("compress.onnx"), referenceMap({40, static_cast<int64_t>(kept.size())}, [&](const auto& i) {
    return i[0] * 33 + kept[static_cast<size_t>(i[1])];
  }));
}
