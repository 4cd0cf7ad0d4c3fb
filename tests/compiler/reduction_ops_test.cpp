// The reduction family's lowerings on shapes spread over many tiles: Softmax whose rows
// stay on their tiles (no exchange at all), TopK and CumSum along an axis that is not
// innermost on shapes that do not divide over tiles, LRN windows that cross tiles, and the
// clear errors of the variants ipusim does not lower.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "layout_test_support.h"

using namespace ipusim;
using namespace ipusim::layout_test;

namespace {

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

size_t copiesIn(const Executable& exe) {
  size_t copies = 0;
  for (const auto& exchange : exe.exchanges) copies += exchange.copies.size();
  return copies;
}

std::string compileError(const Model& model, const std::string& file) {
  try {
    model.compile(file);
  } catch (const CompileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Softmax over rows held whole by their tiles needs no exchange") {
  // 2944 rows of 64 floats: 128 floats, two whole rows, on each of the 1472 tiles.
  constexpr int64_t kRows = 2944, kCols = 64;
  Model m(13);
  m.input("X", kFloat, {kRows, kCols});
  m.output("Y", kFloat, {kRows, kCols});
  m.node("Softmax", {"X"}, {"Y"}).integer("axis", -1);
  const Executable exe = m.compile("softmax_rows.onnx");
  CHECK(anchorVariable(exe, "Y").mapping.size() >= 1472);
  CHECK(copiesIn(exe) == 0);  // statistics are computed and read where the rows are

  const std::vector<float> x = randomFloats(kRows * kCols, 1);
  const auto y = valuesOf<float>(run(exe, {{"X", bytesOf(x)}}).at("Y"));
  for (int64_t r = 0; r < kRows; r += 97) {
    const float* row = x.data() + r * kCols;
    const double max = *std::max_element(row, row + kCols);
    double sum = 0;
    for (int64_t c = 0; c < kCols; ++c) sum += std::exp(row[c] - max);
    for (int64_t c = 0; c < kCols; c += 13) {
      CHECK(y[static_cast<size_t>(r * kCols + c)] == doctest::Approx(std::exp(row[c] - max) / sum).epsilon(1e-5));
    }
  }
}

TEST_CASE("TopK along the outer axis of a shape that does not divide over tiles") {
  constexpr int64_t kA = 301, kInner = 7, kK = 3;
  Model m(11);
  m.input("X", kFloat, {kA, kInner});
  m.initializer<int64_t>("K", kInt64, {1}, {kK});
  m.output("V", kFloat, {kK, kInner});
  m.output("I", kInt64, {kK, kInner});
  m.node("TopK", {"X", "K"}, {"V", "I"}).integer("axis", 0);
  const Executable exe = m.compile("topk_outer.onnx");
  std::vector<float> x(static_cast<size_t>(kA * kInner));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101);  // ties along the axis
  const auto out = run(exe, {{"X", bytesOf(x)}});
  const auto v = valuesOf<float>(out.at("V"));
  const auto idx = valuesOf<int64_t>(out.at("I"));
  for (int64_t c = 0; c < kInner; ++c) {
    std::vector<int64_t> order(kA);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return x[static_cast<size_t>(a * kInner + c)] > x[static_cast<size_t>(b * kInner + c)];
    });
    for (int64_t j = 0; j < kK; ++j) {
      CHECK(idx[static_cast<size_t>(j * kInner + c)] == order[static_cast<size_t>(j)]);
      CHECK(v[static_cast<size_t>(j * kInner + c)] == x[static_cast<size_t>(order[static_cast<size_t>(j)] * kInner + c)]);
    }
  }
}

TEST_CASE("CumSum exclusive and reversed along a middle axis spread over tiles") {
  constexpr int64_t kOuter = 7, kA = 1000, kInner = 3;
  Model m(14);
  m.input("X", kInt32, {kOuter, kA, kInner});
  m.initializer<int32_t>("axis", kInt32, {}, {1});
  m.output("Y", kInt32, {kOuter, kA, kInner});
  m.node("CumSum", {"X", "axis"}, {"Y"}).integer("exclusive", 1).integer("reverse", 1);
  const Executable exe = m.compile("cumsum_middle.onnx");
  std::vector<int32_t> x(static_cast<size_t>(kOuter * kA * kInner));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int32_t>(i % 11) - 5;
  const auto y = valuesOf<int32_t>(run(exe, {{"X", bytesOf(x)}}).at("Y"));
  for (int64_t o = 0; o < kOuter; ++o) {
    for (int64_t c = 0; c < kInner; ++c) {
      int32_t sum = 0;
      for (int64_t a = kA; a-- > 0;) {
        const size_t at = static_cast<size_t>((o * kA + a) * kInner + c);
        CHECK(y[at] == sum);
        sum += x[at];
      }
    }
  }
}

TEST_CASE("LRN windows reach channels on other tiles") {
  constexpr int64_t kC = 64, kS = 30 * 30;
  Model m(13);
  m.input("X", kFloat, {1, kC, 30, 30});
  m.output("Y", kFloat, {1, kC, 30, 30});
  m.node("LRN", {"X"}, {"Y"}).integer("size", 5).real("alpha", 0.01f).real("beta", 0.75f).real("bias", 1.0f);
  const Executable exe = m.compile("lrn_tiles.onnx");
  CHECK(copiesIn(exe) > 0);
  const std::vector<float> x = randomFloats(static_cast<size_t>(kC * kS), 2);
  const auto y = valuesOf<float>(run(exe, {{"X", bytesOf(x)}}).at("Y"));
  for (int64_t c = 0; c < kC; c += 3) {
    for (int64_t s = 0; s < kS; s += 101) {
      double sum = 0;
      for (int64_t d = std::max<int64_t>(0, c - 2); d <= std::min<int64_t>(kC - 1, c + 2); ++d) {
        sum += std::pow(x[static_cast<size_t>(d * kS + s)], 2);
      }
      const double expected = x[static_cast<size_t>(c * kS + s)] / std::pow(1.0 + 0.01 / 5 * sum, 0.75);
      CHECK(y[static_cast<size_t>(c * kS + s)] == doctest::Approx(expected).epsilon(1e-5));
    }
  }
}

TEST_CASE("variants ipusim does not lower fail with the op and the reason") {
  Model bn(15);
  bn.input("X", kFloat, {2, 3, 4});
  for (const char* p : {"S", "B", "M", "V"}) bn.input(p, kFloat, {3});
  bn.output("Y", kFloat, {2, 3, 4});
  bn.output("RM", kFloat, {3});
  bn.output("RV", kFloat, {3});
  bn.node("BatchNormalization", {"X", "S", "B", "M", "V"}, {"Y", "RM", "RV"}).integer("training_mode", 1);
  const std::string training = compileError(bn, "bn_training.onnx");
  CHECK(training.find("BatchNormalization with training_mode=1 is not supported") != std::string::npos);

  Model cumsum(14);
  cumsum.input("X", kFloat, {4, 5});
  cumsum.input("axis", kInt32, {});
  cumsum.output("Y", kFloat, {4, 5});
  cumsum.node("CumSum", {"X", "axis"}, {"Y"});
  CHECK(compileError(cumsum, "cumsum_axis.onnx").find("CumSum's axis input must be known at compile time") !=
        std::string::npos);

  Model sum(13);
  sum.input("X", kFloat, {3, 2, 2});
  sum.input("axes", kInt64, {1});
  sum.output("Y", kFloat, {3, 2});
  sum.node("ReduceSum", {"X", "axes"}, {"Y"}).integer("keepdims", 0);
  CHECK(compileError(sum, "reducesum_axes.onnx").find("ReduceSum with run-time axes needs keepdims=1") !=
        std::string::npos);

  Model einsum(12);  // three operands: no matrix product, and too big a product space
  einsum.input("A", kFloat, {256, 256});
  einsum.input("B", kFloat, {256, 256});
  einsum.input("C", kFloat, {256, 256});
  einsum.output("Y", kFloat, {256, 256});
  einsum.node("Einsum", {"A", "B", "C"}, {"Y"}).text("equation", "ij,jk,kl->il");
  CHECK(compileError(einsum, "einsum_big.onnx").find("Einsum needs a product space of 4294967296 elements") !=
        std::string::npos);
}

TEST_CASE("a two-operand Einsum contraction is a planned matrix product, permuted into the output's order") {
  Model m(12);
  m.input("A", kFloat, {4, 6, 8});
  m.input("B", kFloat, {4, 8, 5});
  m.output("Y", kFloat, {5, 4, 6});
  m.node("Einsum", {"A", "B"}, {"Y"}).text("equation", "bij,bjk->kbi");
  const Executable exe = m.compile("einsum_bmm.onnx");
  CHECK(std::any_of(exe.codelets.begin(), exe.codelets.end(),
                    [](const std::string& c) { return c.rfind("AmpMatMul", 0) == 0; }));
  std::vector<float> a(4 * 6 * 8), b(4 * 8 * 5);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 7) - 3;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) - 2;
  const auto y = valuesOf<float>(run(exe, {{"A", bytesOf(a)}, {"B", bytesOf(b)}}).at("Y"));
  for (size_t k = 0; k < 5; ++k)
    for (size_t bb = 0; bb < 4; ++bb)
      for (size_t i = 0; i < 6; ++i) {
        float sum = 0;
        for (size_t j = 0; j < 8; ++j) sum += a[(bb * 6 + i) * 8 + j] * b[(bb * 8 + j) * 5 + k];
        CHECK(y[(k * 4 + bb) * 6 + i] == doctest::Approx(sum));
      }
}

TEST_CASE("ReduceSum with run-time axes and keepdims takes its axes from the static output shape") {
  Model m(13);
  m.input("X", kFloat, {3, 4, 5});
  m.input("axes", kInt64, {1});
  m.output("Y", kFloat, {3, 1, 5});
  m.node("ReduceSum", {"X", "axes"}, {"Y"}).integer("keepdims", 1);
  const Executable exe = m.compile("reducesum_runtime_axes.onnx");
  std::vector<float> x(60);
  std::iota(x.begin(), x.end(), 0.0f);
  const auto y = valuesOf<float>(run(exe, {{"X", bytesOf(x)}, {"axes", bytesOf(std::vector<int64_t>{-2})}}).at("Y"));
  REQUIRE(y.size() == 15);
  CHECK(y[0] == 0 + 5 + 10 + 15);
  CHECK(y[14] == 44 + 49 + 54 + 59);
}

TEST_CASE("a CumSum along one long line runs in pieces on many tiles, then adds each piece's carry") {
  constexpr int64_t kN = 60000;  // 15 pieces of 4000
  Model m(14);
  m.input("X", kInt32, {kN});
  m.initializer<int64_t>("axis", kInt64, {}, {0});
  m.output("Y", kInt32, {kN});
  m.node("CumSum", {"X", "axis"}, {"Y"}).integer("reverse", 1);
  const Executable exe = m.compile("cumsum_long.onnx");
  std::set<uint32_t> scanTiles;
  for (const auto& cs : exe.computeSets)
    for (const auto& v : cs.vertices)
      if (exe.codelets[v.codelet] == "CumSum<int32>") scanTiles.insert(v.tile);
  CHECK(scanTiles.size() > 1);
  std::vector<int32_t> x(kN);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int32_t>(i % 13) - 6;
  const auto y = valuesOf<int32_t>(run(exe, {{"X", bytesOf(x)}}).at("Y"));
  int64_t sum = 0;
  for (int64_t i = kN; i-- > 0;) {
    sum += x[static_cast<size_t>(i)];
    if (i % 977 == 0) CHECK(y[static_cast<size_t>(i)] == sum);
  }
}
