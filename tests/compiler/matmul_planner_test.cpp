// The matmul planner: its estimate of a split worked by hand, its choices on known shapes,
// its estimates against the engine's cycles for the plans it chooses, and products over
// many tiles against one tile and a double-precision reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "compiler/compiler.h"
#include "layout_test_support.h"
#include "matmul_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

MatMulProblem floatProblem(uint64_t groups, uint64_t m, uint64_t k, uint64_t n, DType input, DType partials,
                           DType output) {
  MatMulProblem p;
  p.groups = groups;
  p.m = m;
  p.k = k;
  p.n = n;
  p.lhsType = p.rhsType = input;
  p.partialsType = partials;
  p.outputType = output;
  p.lhsGroups = p.rhsGroups = groups;
  return p;
}

double relativeError(uint64_t estimate, uint64_t measured) {
  return std::fabs(static_cast<double>(estimate) - static_cast<double>(measured)) / static_cast<double>(measured);
}

void checkClose(const std::vector<double>& got, const std::vector<double>& expected, double tolerance) {
  REQUIRE(got.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - expected[i]));
  CHECK(worst <= tolerance);
}

}  // namespace

TEST_CASE("a 64^3 fp16 split on one tile, estimated by hand") {
  const Target ipu2 = targetPreset("ipu2");
  const MatMulProblem p = floatProblem(1, 64, 64, 64, DType::Float16, DType::Float16, DType::Float16);
  const MatMulPlan plan = evaluateMatMulSplit(p, ipu2, 1, 64, 64, 64);
  CHECK(plan.tiles() == 1);
  CHECK(plan.directOutput());
  // Operands 2 x 64 x 64 halves = 16384 bytes into tile 0; each sender (a linear mapping of
  // 4096 halves: 64 per tile) sends 128 bytes of each operand once.
  CHECK(plan.cost.exchangeIn == 100 + 16384 / 4 + 90);
  // AMP: 4 input groups x 4 passes of 16 outputs, 11 rows per worker:
  // pass 25 + 32 + 6 * (19 + 4 * 11) = 435; vertex 50 + 12 + 4 * (16 + 4 * 435) = 7086;
  // one launch (11) and the sync (90).
  CHECK(plan.cost.compute == 11 + 7086 + 90);
  CHECK(plan.cost.exchangeReduce == 0);
  CHECK(plan.cost.reduce == 0);
  CHECK(plan.bytesPerTile == 3 * 64 * 64 * 2);
}

TEST_CASE("a split over k adds the partials' exchange and reduction") {
  const Target ipu2 = targetPreset("ipu2");
  const MatMulProblem p = floatProblem(1, 64, 64, 64, DType::Float16, DType::Float32, DType::Float16);
  const MatMulPlan plan = evaluateMatMulSplit(p, ipu2, 1, 64, 64, 32);
  CHECK(plan.kParts == 2);
  CHECK_FALSE(plan.directOutput());
  // Each tile holds 64 x 64 fp32 partials and reduces half of them: it receives and sends
  // 2048 x 4 = 8192 bytes.
  CHECK(plan.cost.exchangeReduce == 100 + 8192 / 4 + 90);
  // Reduction: 2048 elements in 6 worker chunks of whole fp32 vectors (342, last 338):
  // 20 + ceil(342 / 4) * (2 * 1 + 7) per worker (one partial added); 6 launches.
  CHECK(plan.cost.reduce == 6 * 11 + 6 * (20 + 86 * (2 * 1 + 7)) + 90);
}

TEST_CASE("planner choices on known shapes") {
  const Target ipu2 = targetPreset("ipu2");
  SUBCASE("a tiny product stays on few tiles: exchange and sync dominate") {
    const MatMulPlan plan = planMatMul(floatProblem(1, 4, 4, 4, DType::Float32, DType::Float32, DType::Float32), ipu2);
    CHECK(plan.tiles() == 1);
    CHECK(plan.directOutput());
    CHECK(plan.cost.compute < plan.cost.exchangeIn + 200);
  }
  SUBCASE("64^3 fp16 spreads m and n, never k, over dozens of tiles") {
    const MatMulPlan plan = planMatMul(floatProblem(1, 64, 64, 64, DType::Float16, DType::Float16, DType::Float16), ipu2);
    MESSAGE("64^3 fp16: " << plan.describe() << ", cycles " << plan.cost.total());
    CHECK(plan.tiles() > 8);
    CHECK(plan.tiles() < 1472);
    CHECK(plan.cost.total() < evaluateMatMulSplit(plan.problem, ipu2, 1, 64, 64, 64).cost.total());
  }
  SUBCASE("2048^3 fp16 with constant weights swaps its operands") {
    MatMulProblem p = floatProblem(1, 2048, 2048, 2048, DType::Float16, DType::Float16, DType::Float16);
    p.rhsConstant = true;
    // What the MatMul lowering asks for a model whose only weights are W: a quarter of a tile
    // for its resident blocks (productOptions), and swapping allowed (W is a constant).
    MatMulOptions options;
    options.residentConstantBytesPerTile = static_cast<uint64_t>(kResidentConstantShare * ipu2.bytesPerTile);
    const MatMulPlan usual = planMatMul(p, ipu2, options);
    p.swapAllowed = true;
    const MatMulPlan plan = planMatMul(p, ipu2, options);
    MESSAGE("2048^3 fp16: " << plan.describe() << ", cycles " << plan.cost.total() << " (in " << plan.cost.exchangeIn
                            << ", compute " << plan.cost.compute << ", reduce exchange " << plan.cost.exchangeReduce
                            << ", reduce " << plan.cost.reduce << ", transpose " << plan.cost.transpose << "), "
                            << plan.bytesPerTile << " bytes per tile; unswapped " << usual.describe() << ", cycles "
                            << usual.cost.total());
    // Unswapped (the plan before swapping existed): 9 row blocks of 228, 16 column blocks of
    // 128 (8 AMP passes), 10 k blocks of 208 on 1440 tiles; each tile receives a 228 x 208
    // slice of X (23.9k cycles) and streams only 38 rows per worker through each pass.
    CHECK(usual.describe() == "groups 1x1, m 9x228, n 16x128, k 10x208 on 1440 tiles");
    CHECK(usual.cost.total() == 160389);
    // Swapped: out^T = W^T x X^T. 26 m blocks of 80 (5 passes of 16 of X's rows as the
    // weights), 7 n blocks of 296 rows of W^T streamed (50 per worker), 8 k blocks of 256 on
    // 1456 tiles: a 80 x 256 slice of X per tile (10.4k cycles), 16 x 5 = 80 passes of
    // 25 + 32 + 6 x (19 + 4 x 50) cycles (110k), 7/8 of 40 x 80 partials exchanged and
    // reduced per reducer, then transposed back (1.5k).
    CHECK(plan.describe() == "groups 1x1, m 26x80, n 7x296, k 8x256 on 1456 tiles, operands swapped");
    CHECK(plan.rhsResident);
    CHECK(plan.cost.compute == 11 + (50 + 12 + 16 * (16 + 5 * (25 + 32 + 6 * (19 + 4 * 50)))) + 90);
    CHECK(plan.cost.exchangeIn == 100 + 80 * 256 * 2 / 4 + 90);
    CHECK(plan.cost.total() == 142924);
    const double peakCycles = 2048.0 * 2048 * 2048 / (1472.0 * 64);
    CHECK(plan.cost.total() > peakCycles);
    CHECK(plan.cost.total() < peakCycles / 0.62);
    CHECK(plan.bytesPerTile <= static_cast<uint64_t>(0.6 * ipu2.bytesPerTile));
    // Without the resident budget the planner may keep larger W blocks.
    const MatMulPlan unbounded = planMatMul(p, ipu2);
    MESSAGE("2048^3 fp16, no resident budget: " << unbounded.describe() << ", cycles " << unbounded.cost.total());
    CHECK(unbounded.cost.total() <= plan.cost.total());
  }
  SUBCASE("many small products split their batch, not their matrices") {
    const MatMulPlan plan =
        planMatMul(floatProblem(1000, 8, 8, 8, DType::Float32, DType::Float32, DType::Float32), ipu2);
    CHECK(plan.groupParts > 100);
    CHECK(plan.kParts == 1);
  }
  SUBCASE("a product that cannot fit is a clear error") {
    MatMulOptions tight;
    tight.availableMemoryProportion = 1e-6;
    CHECK_THROWS_WITH_AS(
        planMatMul(floatProblem(1, 64, 64, 64, DType::Float32, DType::Float32, DType::Float32), ipu2, tight),
        doctest::Contains("does not fit"), CompileError);
  }
}

TEST_CASE("the planner's estimate agrees with the engine within 10%") {
  const Target ipu2 = targetPreset("ipu2");
  struct Case {
    uint64_t groups, m, k, n;
    DType input, partials, output;
    bool rhsConstant;
    bool swapped = false;  // allowed to swap (a constant rhs), and expected to
  };
  const Case cases[] = {
      {1, 256, 256, 256, DType::Float16, DType::Float16, DType::Float16, false},
      {1, 512, 1024, 128, DType::Float32, DType::Float32, DType::Float32, true},
      {1, 200, 700, 90, DType::Float16, DType::Float32, DType::Float16, false},
      {8, 64, 96, 64, DType::Float16, DType::Float32, DType::Float32, false},
      {1, 64, 64, 64, DType::Float16, DType::Float16, DType::Float16, false},
      {3, 33, 47, 29, DType::Int32, DType::Int32, DType::Int32, false},
      // Swapped plans, chosen by the planner: few rows of activations, many weight columns.
      {1, 16, 256, 2048, DType::Float32, DType::Float32, DType::Float32, true, true},
      {1, 16, 1024, 4096, DType::Float16, DType::Float16, DType::Float16, true, true},
      {1, 40, 600, 1000, DType::Float16, DType::Float32, DType::Float16, true, true},
  };
  for (const Case& c : cases) {
    MatMulProblem p = floatProblem(c.groups, c.m, c.k, c.n, c.input, c.partials, c.output);
    p.unit = isFloat(c.input) ? MatMulUnit::Amp : MatMulUnit::Vector;
    p.rhsConstant = c.rhsConstant;
    p.swapAllowed = c.swapped;
    ProductInputs inputs;
    inputs.lhs = randomValues(c.groups * c.m * c.k, c.input, 1);
    inputs.rhs = randomValues(c.groups * c.k * c.n, c.input, 2);
    const ProductRun run = runProduct(p, inputs, ipu2);
    CAPTURE(run.plan.describe());
    CAPTURE(run.plan.cost.total());
    CAPTURE(run.cycles);
    CHECK(run.plan.swapOperands == c.swapped);
    CHECK(relativeError(run.plan.cost.total(), run.cycles) <= 0.10);
    const auto expected = referenceProduct(inputs.lhs, inputs.rhs, c.groups, c.m, c.k, c.n);
    if (isFloat(c.input)) {
      // fp16 inputs are rounded before the product; compare against the rounded inputs.
      const auto lhs = decode(encode(inputs.lhs, c.input), c.input);
      const auto rhs = decode(encode(inputs.rhs, c.input), c.input);
      const auto rounded = referenceProduct(lhs, rhs, c.groups, c.m, c.k, c.n);
      const double ulp = c.output == DType::Float16 || c.partials == DType::Float16 ? 1.0 / 64 : 1e-4;
      checkClose(run.out, rounded, ulp * std::sqrt(static_cast<double>(c.k)));
    } else {
      CHECK(run.out == expected);
    }
  }
}

TEST_CASE("a product over many tiles equals the one-tile product") {
  const Target ipu2 = targetPreset("ipu2");
  SUBCASE("int32: bit for bit, whatever the split") {
    MatMulProblem p = floatProblem(2, 40, 50, 30, DType::Int32, DType::Int32, DType::Int32);
    p.unit = MatMulUnit::Vector;
    ProductInputs inputs;
    inputs.lhs = randomValues(2 * 40 * 50, DType::Int32, 3);
    inputs.rhs = randomValues(2 * 50 * 30, DType::Int32, 4);
    const ProductRun one = runProduct(p, inputs, ipu2, std::array<uint64_t, 4>{2, 40, 30, 50});
    CHECK(one.plan.tiles() == 1);
    const ProductRun many = runProduct(p, inputs, ipu2, std::array<uint64_t, 4>{1, 7, 8, 9});
    CHECK(many.plan.tiles() == 2 * 6 * 4 * 6);
    CHECK(many.out == one.out);
    CHECK(many.out == referenceProduct(inputs.lhs, inputs.rhs, 2, 40, 50, 30));
  }
  SUBCASE("float32 with Gemm's epilogue: alpha, beta and a bias") {
    MatMulProblem p = floatProblem(1, 48, 96, 40, DType::Float32, DType::Float32, DType::Float32);
    ProductInputs inputs;
    inputs.lhs = randomValues(48 * 96, DType::Float32, 5);
    inputs.rhs = randomValues(96 * 40, DType::Float32, 6);
    inputs.bias = randomValues(48 * 40, DType::Float32, 7);
    inputs.alpha = 0.5;
    inputs.beta = -2.0;
    const ProductRun one = runProduct(p, inputs, ipu2, std::array<uint64_t, 4>{1, 48, 40, 96});
    const ProductRun many = runProduct(p, inputs, ipu2, std::array<uint64_t, 4>{1, 16, 8, 32});
    CHECK(one.plan.tiles() == 1);
    CHECK(many.plan.tiles() == 3 * 5 * 3);
    std::vector<double> expected = referenceProduct(inputs.lhs, inputs.rhs, 1, 48, 96, 40);
    for (size_t i = 0; i < expected.size(); ++i) expected[i] = 0.5 * expected[i] - 2.0 * (*inputs.bias)[i];
    checkClose(one.out, expected, 1e-4);
    checkClose(many.out, one.out, 1e-4);
    CHECK(relativeError(many.plan.cost.total(), many.cycles) <= 0.10);
  }
}

namespace {

// Small integers as floats: every product and sum below is exact in fp16 and fp32, so a
// swapped product must equal the reference exactly, whatever the split.
std::vector<double> smallIntegers(size_t count, int range, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<double> values(count);
  for (double& v : values) v = static_cast<double>(std::uniform_int_distribution<int>(-range, range)(rng));
  return values;
}

}  // namespace

TEST_CASE("swapped operands compute the same products exactly") {
  const Target ipu2 = targetPreset("ipu2");
  struct Case {
    const char* what;
    uint64_t groups, m, k, n;
    DType input, partials, output;
    bool rhsConstant;
    std::array<uint64_t, 4> split;  // group, m, n, k blocks
    bool bias;
  };
  const Case cases[] = {
      {"fp32, k split, edge blocks", 1, 40, 100, 70, DType::Float32, DType::Float32, DType::Float32, true, {1, 16, 32, 48}, false},
      {"fp32 direct (no k split)", 1, 24, 32, 50, DType::Float32, DType::Float32, DType::Float32, true, {1, 8, 20, 32}, false},
      {"fp32 Gemm epilogue: alpha, beta, bias", 1, 40, 64, 36, DType::Float32, DType::Float32, DType::Float32, true, {1, 16, 12, 16}, true},
      {"fp16, fp16 partials", 1, 48, 64, 40, DType::Float16, DType::Float16, DType::Float16, true, {1, 16, 24, 32}, false},
      {"fp16 direct, fp16 partials", 1, 32, 48, 64, DType::Float16, DType::Float16, DType::Float16, true, {1, 16, 64, 48}, false},
      {"fp16, fp32 partials, fp16 out", 1, 40, 80, 30, DType::Float16, DType::Float32, DType::Float16, true, {1, 8, 16, 32}, false},
      {"batched fp16 to fp32", 3, 20, 48, 26, DType::Float16, DType::Float32, DType::Float32, true, {1, 8, 13, 16}, false},
      {"run-time rhs", 2, 16, 40, 24, DType::Float32, DType::Float32, DType::Float32, false, {1, 8, 12, 16}, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    MatMulProblem p = floatProblem(c.groups, c.m, c.k, c.n, c.input, c.partials, c.output);
    p.rhsConstant = c.rhsConstant;
    ProductInputs inputs;
    inputs.lhs = smallIntegers(c.groups * c.m * c.k, 2, 11);
    inputs.rhs = smallIntegers(c.groups * c.k * c.n, 2, 12);
    if (c.bias) {
      inputs.bias = smallIntegers(c.groups * c.m * c.n, 8, 13);
      inputs.alpha = 0.5;
      inputs.beta = -2.0;
    }
    const ProductRun swapped = runProduct(p, inputs, ipu2, c.split, {}, "", true);
    CHECK(swapped.plan.swapOperands);
    CHECK(swapped.plan.cost.transpose > 0);
    std::vector<double> expected = referenceProduct(inputs.lhs, inputs.rhs, c.groups, c.m, c.k, c.n);
    if (c.bias) {
      for (size_t i = 0; i < expected.size(); ++i) expected[i] = 0.5 * expected[i] - 2.0 * (*inputs.bias)[i];
    }
    CHECK(swapped.out == expected);
    // The same split unswapped gives the same bits.
    const ProductRun usual = runProduct(p, inputs, ipu2, c.split);
    CHECK_FALSE(usual.plan.swapOperands);
    CHECK(usual.out == swapped.out);
    CAPTURE(swapped.plan.describe());
    CAPTURE(swapped.plan.cost.total());
    CAPTURE(swapped.cycles);
    CHECK(relativeError(swapped.plan.cost.total(), swapped.cycles) <= 0.10);
  }
}

TEST_CASE("the planner swaps operands where the streamed rows are long, and only where allowed") {
  const Target ipu2 = targetPreset("ipu2");
  // 16 rows of activations x a constant [1024 x 4096]: unswapped, every AMP pass streams at
  // most 16 rows; swapped, it streams rows of the weights' 4096 columns.
  MatMulProblem p = floatProblem(1, 16, 1024, 4096, DType::Float16, DType::Float16, DType::Float16);
  p.rhsConstant = true;
  const MatMulPlan usual = planMatMul(p, ipu2);
  CHECK_FALSE(usual.swapOperands);
  p.swapAllowed = true;
  const MatMulPlan swapped = planMatMul(p, ipu2);
  MESSAGE("16x1024x4096 fp16: " << usual.describe() << ", cycles " << usual.cost.total() << "; allowed to swap: "
                                << swapped.describe() << ", cycles " << swapped.cost.total());
  CHECK(swapped.swapOperands);
  CHECK(swapped.groupBlock == 1);
  CHECK(swapped.cost.total() < usual.cost.total());
  // Integer products never swap (no AMP).
  MatMulProblem integers = floatProblem(1, 16, 64, 512, DType::Int32, DType::Int32, DType::Int32);
  integers.unit = MatMulUnit::Vector;
  integers.rhsConstant = integers.swapAllowed = true;
  CHECK_FALSE(planMatMul(integers, ipu2).swapOperands);
}

TEST_CASE("Gemm and MatMul with constant weights lower to swapped plans exactly") {
  using namespace layout_test;
  // Gemm: Y = 0.5 x A^T x B^T - 2 x C, A [k][m] a run-time input, B [n][k] and C [n] constant.
  const int64_t m = 16, k = 256, n = 2048;
  const std::vector<double> a = smallIntegers(static_cast<size_t>(k * m), 2, 21);
  const std::vector<double> bw = smallIntegers(static_cast<size_t>(n * k), 2, 22);
  const std::vector<double> c = smallIntegers(static_cast<size_t>(n), 8, 23);
  auto floats = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  Model model;
  model.input("A", kFloat, {k, m});
  model.initializer("B", kFloat, {n, k}, floats(bw));
  model.initializer("C", kFloat, {n}, floats(c));
  model.output("Y", kFloat, {m, n});
  model.node("Gemm", {"A", "B", "C"}, {"Y"}).integer("transA", 1).integer("transB", 1).real("alpha", 0.5f).real(
      "beta", -2.0f);
  const Executable exe = model.compile("gemm_swapped.onnx");
  CHECK(std::find(exe.codelets.begin(), exe.codelets.end(), "Transpose2d<float32>") != exe.codelets.end());
  const HostBuffers out = run(exe, {{"A", bytesOf(floats(a))}});
  const std::vector<float> y = valuesOf<float>(out.at("Y"));
  REQUIRE(y.size() == static_cast<size_t>(m * n));
  size_t wrong = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t x = 0; x < k; ++x) sum += a[x * m + i] * bw[j * k + x];
      if (y[i * n + j] != static_cast<float>(0.5 * sum - 2.0 * c[j])) ++wrong;
    }
  CHECK(wrong == 0);
}
