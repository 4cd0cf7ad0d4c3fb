// The matmul planner: its estimate of a split worked by hand, its choices on known shapes,
// its estimates against the engine's cycles for the plans it chooses, and products over
// many tiles against one tile and a double-precision reference.
#include <doctest/doctest.h>

#include <cmath>

#include "compiler/compiler.h"
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
  SUBCASE("2048^3 fp16 with resident weights uses the whole IPU near the AMP peak") {
    MatMulProblem p = floatProblem(1, 2048, 2048, 2048, DType::Float16, DType::Float16, DType::Float16);
    p.rhsConstant = true;
    const MatMulPlan plan = planMatMul(p, ipu2);
    MESSAGE("2048^3 fp16: " << plan.describe() << ", cycles " << plan.cost.total() << " (in " << plan.cost.exchangeIn
                            << ", compute " << plan.cost.compute << ", reduce exchange " << plan.cost.exchangeReduce
                            << ", reduce " << plan.cost.reduce << "), " << plan.bytesPerTile << " bytes per tile");
    // 1472 = 2^6 x 23 tiles: 9 row blocks of 228, 16 column blocks of 128 (8 AMP passes),
    // 10 k blocks of 208 (13 input groups) use 1440 of them. Per tile: 228 x 208 fp16 lhs
    // received (23.7k cycles), 104 passes of 25 + 32 + 6 x (19 + 4 x 38) cycles (113k), 9/10
    // of a 228 x 128 fp16 block of partials exchanged (13k) and reduced (10k): about 57% of
    // the peak, the rest going to exchange (docs/matmul-planner.md).
    CHECK(plan.describe() == "groups 1x1, m 9x228, n 16x128, k 10x208 on 1440 tiles");
    CHECK(plan.cost.compute == 11 + (50 + 12 + 13 * (16 + 8 * (25 + 32 + 6 * (19 + 4 * 38)))) + 90);
    const double peakCycles = 2048.0 * 2048 * 2048 / (1472.0 * 64);
    CHECK(plan.cost.total() > peakCycles);
    CHECK(plan.cost.total() < peakCycles / 0.55);
    CHECK(plan.bytesPerTile <= static_cast<uint64_t>(0.6 * ipu2.bytesPerTile));
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
  };
  const Case cases[] = {
      {1, 256, 256, 256, DType::Float16, DType::Float16, DType::Float16, false},
      {1, 512, 1024, 128, DType::Float32, DType::Float32, DType::Float32, true},
      {1, 200, 700, 90, DType::Float16, DType::Float32, DType::Float16, false},
      {8, 64, 96, 64, DType::Float16, DType::Float32, DType::Float32, false},
      {1, 64, 64, 64, DType::Float16, DType::Float16, DType::Float16, false},
      {3, 33, 47, 29, DType::Int32, DType::Int32, DType::Int32, false},
  };
  for (const Case& c : cases) {
    MatMulProblem p = floatProblem(c.groups, c.m, c.k, c.n, c.input, c.partials, c.output);
    p.unit = isFloat(c.input) ? MatMulUnit::Amp : MatMulUnit::Vector;
    p.rhsConstant = c.rhsConstant;
    ProductInputs inputs;
    inputs.lhs = randomValues(c.groups * c.m * c.k, c.input, 1);
    inputs.rhs = randomValues(c.groups * c.k * c.n, c.input, 2);
    const ProductRun run = runProduct(p, inputs, ipu2);
    CAPTURE(run.plan.describe());
    CAPTURE(run.plan.cost.total());
    CAPTURE(run.cycles);
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
    ProductInputs inputs{randomValues(2 * 40 * 50, DType::Int32, 3), randomValues(2 * 50 * 30, DType::Int32, 4)};
    const ProductRun one = runProduct(p, inputs, ipu2, std::array<uint64_t, 4>{2, 40, 30, 50});
    CHECK(one.plan.tiles() == 1);
    const ProductRun many = runProduct(p, inputs, ipu2, std::array<uint64_t, 4>{1, 7, 8, 9});
    CHECK(many.plan.tiles() == 2 * 6 * 4 * 6);
    CHECK(many.out == one.out);
    CHECK(many.out == referenceProduct(inputs.lhs, inputs.rhs, 2, 40, 50, 30));
  }
  SUBCASE("float32 with Gemm's epilogue: alpha, beta and a bias") {
    MatMulProblem p = floatProblem(1, 48, 96, 40, DType::Float32, DType::Float32, DType::Float32);
    ProductInputs inputs{randomValues(48 * 96, DType::Float32, 5), randomValues(96 * 40, DType::Float32, 6)};
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
