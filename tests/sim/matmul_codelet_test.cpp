// The matrix codelets on known values (each dtype combination), their cycle model against
// hand-worked figures, and the engine's refusal of a vertex that beats the AMP's peak.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "sim/codelet.h"
#include "sim/codelets/matmul_cost.h"
#include "sim/engine.h"
#include "sim/engine_plan.h"
#include "sim/error.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

// Values of fields laid out one after another on tile 0; the vertex writes the last
// `outBytes` bytes. Returns the output bytes and the compute step's cycles.
OneVertexRun runOneVertex(const std::string& codelet, const std::vector<std::vector<uint8_t>>& inputs, uint32_t outBytes,
                          std::vector<int64_t> scalars, std::vector<std::vector<Region>> extraFields = {}) {
  ExecutableBuilder b(targetPreset("ipu2"));
  uint32_t offset = 0;
  Vertex vertex;
  vertex.codelet = b.codelet(codelet);
  for (size_t i = 0; i < inputs.size(); ++i) {
    b.constant("in" + std::to_string(i), DType::UInt8, {static_cast<int64_t>(inputs[i].size())}, 0, offset, inputs[i]);
    vertex.fields.push_back({{offset, static_cast<uint32_t>(inputs[i].size())}});
    offset += (static_cast<uint32_t>(inputs[i].size()) + 7) / 8 * 8;
  }
  const uint32_t outOffset = offset;
  b.variable("out", DType::UInt8, {outBytes}, 0, outOffset);
  vertex.fields.insert(vertex.fields.begin() + (codelet.rfind("ReducePartials", 0) == 0 ? 0 : 2),
                       {{outOffset, outBytes}});
  for (auto& field : extraFields) vertex.fields.push_back(std::move(field));
  vertex.scalars = std::move(scalars);
  return runVertexOnTile0(b, vertex, outOffset, outBytes);
}

// [[1,2,3,4],[5,6,7,8],[9,10,11,12]] x [[1,0,2,0,1],[0,1,0,2,1],[1,1,1,1,1],[2,0,0,1,-1]]
const std::vector<float> kLhs{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};                            // 3 x 4
const std::vector<float> kRhs{1, 0, 2, 0, 1, 0, 1, 0, 2, 1, 1, 1, 1, 1, 1, 2, 0, 0, 1, -1};  // 4 x 5
const std::vector<float> kProduct{12, 5, 5, 11, 2, 28, 13, 17, 27, 10, 44, 21, 29, 43, 18};   // 3 x 5

template <typename T>
std::vector<T> transpose(const std::vector<T>& values, size_t rows, size_t cols) {
  std::vector<T> out(values.size());
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) out[c * rows + r] = values[r * cols + c];
  return out;
}

}  // namespace

TEST_CASE("AmpMatMul<float32,float32>: a known product, any operand order") {
  for (int lhsT = 0; lhsT < 2; ++lhsT) {
    for (int rhsT = 0; rhsT < 2; ++rhsT) {
      CAPTURE(lhsT);
      CAPTURE(rhsT);
      const auto lhs = lhsT ? transpose(kLhs, 3, 4) : kLhs;
      const auto rhs = rhsT ? transpose(kRhs, 4, 5) : kRhs;
      const OneVertexRun run = runOneVertex("AmpMatMul<float32,float32>", {toBytes(lhs), toBytes(rhs)}, 15 * 4,
                                         {1, 3, 4, 5, lhsT, rhsT});
      CHECK(fromBytes<float>(run.out) == kProduct);
    }
  }
}

TEST_CASE("AmpMatMul<float16,float32> and <float16,float16>: fp16 inputs, partials of either type") {
  const OneVertexRun wide = runOneVertex("AmpMatMul<float16,float32>", {halfBytes(kLhs), halfBytes(kRhs)}, 15 * 4,
                                      {1, 3, 4, 5, 0, 0});
  CHECK(fromBytes<float>(wide.out) == kProduct);
  const OneVertexRun narrow = runOneVertex("AmpMatMul<float16,float16>", {halfBytes(kLhs), halfBytes(kRhs)}, 15 * 2,
                                        {1, 3, 4, 5, 0, 0});
  CHECK(halfValues(narrow.out) == kProduct);
  // fp16 partials round once: 2049 is not a half (it rounds to 2048); fp32 partials keep it.
  const std::vector<float> a{2048, 1}, b{1, 1};
  CHECK(halfValues(runOneVertex("AmpMatMul<float16,float16>", {halfBytes(a), halfBytes(b)}, 2, {1, 1, 2, 1, 0, 0}).out)
            .at(0) == 2048.0f);
  CHECK(fromBytes<float>(runOneVertex("AmpMatMul<float16,float32>", {halfBytes(a), halfBytes(b)}, 4,
                                      {1, 1, 2, 1, 0, 0})
                             .out)
            .at(0) == 2049.0f);
}

TEST_CASE("AmpMatMul: several groups in one vertex") {
  std::vector<float> lhs = kLhs, rhs = kRhs, expected = kProduct;
  for (float v : kLhs) lhs.push_back(-v);
  rhs.insert(rhs.end(), kRhs.begin(), kRhs.end());
  for (float v : kProduct) expected.push_back(-v);
  const OneVertexRun run =
      runOneVertex("AmpMatMul<float32,float32>", {toBytes(lhs), toBytes(rhs)}, 30 * 4, {2, 3, 4, 5, 0, 0});
  CHECK(fromBytes<float>(run.out) == expected);
}

TEST_CASE("AmpMatMul cycles: poplibs' 1x1 AMP estimator at the Target's rate") {
  const Target ipu2 = targetPreset("ipu2");
  // fp16 in, fp16 partials: 16 inputs per pass, 64 * 4 / 16 = 16 outputs per pass, weights
  // load in 16 * 16 * 2 / 16 = 32 cycles. m = 12, k = 32, n = 16: 2 input groups, 1 output
  // group, 2 rows per worker: pass = 25 + 32 + 6 * (19 + 4 * 2) = 219;
  // vertex = 50 + (12 + 2 * (16 + 219)) = 532; the step adds one vertex launch (11).
  const AmpGeometry g = ampGeometry(DType::Float16, DType::Float16, ipu2);
  CHECK(g.outputsPerPass == 16);
  CHECK(g.weightLoadCycles == 32);
  CHECK(ampMatMulCycles(ipu2, DType::Float16, DType::Float16, 1, 12, 32, 16) == 532);
  std::vector<float> zeros(12 * 32, 0.0f), rhs(32 * 16, 0.0f);
  const OneVertexRun run = runOneVertex("AmpMatMul<float16,float16>", {halfBytes(zeros), halfBytes(rhs)}, 12 * 16 * 2,
                                     {1, 12, 32, 16, 0, 0});
  CHECK(run.cycles == 11 + 532);
  // fp16 with fp32 partials runs half as many conv units (8), fp32 8 conv units at 8 cycles a row.
  CHECK(ampGeometry(DType::Float16, DType::Float32, ipu2).outputsPerPass == 8);
  CHECK(ampGeometry(DType::Float32, DType::Float32, ipu2).outputsPerPass == 8);
  CHECK_FALSE(ampSupports(DType::Float32, DType::Float16));
  // Large blocks approach the peak from below: 6 * 4 * 100 cycles per 16 x 16 x 600 MACs.
  const uint64_t macs = uint64_t{600} * 1024 * 1024;
  const uint64_t cycles = ampMatMulCycles(ipu2, DType::Float16, DType::Float16, 1, 600, 1024, 1024);
  CHECK(cycles > macs / 64);
  CHECK(cycles < macs / 64 * 11 / 10);
}

TEST_CASE("integer MatMul<T>: wraps like numpy, reads rhs either way") {
  const std::vector<int32_t> lhs{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<int32_t> rhs{1, 0, 2, 0, 1, 0, 1, 0, 2, 1, 1, 1, 1, 1, 1, 2, 0, 0, 1, -1};
  const std::vector<int32_t> expected{12, 5, 5, 11, 2, 28, 13, 17, 27, 10, 44, 21, 29, 43, 18};
  CHECK(fromBytes<int32_t>(runOneVertex("MatMul<int32>", {toBytes(lhs), toBytes(rhs)}, 60, {3, 4, 5, 0}).out) ==
        expected);
  CHECK(fromBytes<int32_t>(
            runOneVertex("MatMul<int32>", {toBytes(lhs), toBytes(transpose(rhs, 4, 5))}, 60, {3, 4, 5, 1}).out) ==
        expected);
  const std::vector<int64_t> big{int64_t{1} << 62, 3};
  const std::vector<int64_t> four{4, 1};
  CHECK(fromBytes<int64_t>(runOneVertex("MatMul<int64>", {toBytes(big), toBytes(four)}, 8, {1, 2, 1, 0}).out).at(0) ==
        3);  // 2^64 wraps to 0
  // Cycles: 5 + rows * n * (4 + k * 7) per worker, times 6 for the barrel, plus a launch.
  CHECK(runOneVertex("MatMul<int32>", {toBytes(lhs), toBytes(rhs)}, 60, {3, 4, 5, 0}).cycles ==
        11 + 6 * (5 + 3 * 5 * (4 + 4 * 7)));
}

TEST_CASE("MatMulInteger<uint8,uint8> and <int8,uint8>: zero points, int32 results") {
  // onnx's test_matmulinteger: a_zero_point 12, b_zero_point 0.
  const std::vector<uint8_t> a{11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0};
  const std::vector<uint8_t> b{1, 4, 2, 5, 3, 6};
  const std::vector<int32_t> expected{-38, -83, -44, -98, -50, -113, -56, -128};
  CHECK(fromBytes<int32_t>(runOneVertex("MatMulInteger<uint8,uint8>", {a, b}, 32, {4, 3, 2, 0, 12, 0}).out) ==
        expected);
  const std::vector<uint8_t> negative{static_cast<uint8_t>(int8_t{-2}), 3};
  const std::vector<uint8_t> weights{200, 1};
  CHECK(fromBytes<int32_t>(runOneVertex("MatMulInteger<int8,uint8>", {negative, weights}, 4, {1, 2, 1, 0, 0, 1}).out)
            .at(0) == -2 * 199 + 3 * 0);
}

TEST_CASE("ReducePartials: sums, alpha, beta, bias, output in several regions") {
  const std::vector<float> p0{1, 2, 3, 4}, p1{10, 20, 30, 40};
  // Output regions: 4 floats as two regions of 2 (written after the inputs).
  ExecutableBuilder b(targetPreset("ipu2"));
  b.constant("p0", DType::Float32, {4}, 0, 0, toBytes(p0));
  b.constant("p1", DType::Float32, {4}, 0, 16, toBytes(p1));
  b.constant("bias", DType::Float16, {4}, 0, 32, halfBytes({0.5f, 0.5f, 1, 1}));
  b.variable("out", DType::Float16, {8}, 0, 40);
  Vertex v;
  v.codelet = b.codelet("ReducePartials<float32,float16>");
  v.fields = {{{40, 4}, {52, 4}}, {{0, 16}, {16, 16}}, {{32, 4}, {36, 4}}};
  v.scalars = {scalarFromDouble(2.0), scalarFromDouble(-1.0)};
  const uint32_t cs = b.computeSet("reduce");
  b.exe.computeSets[cs].vertices.push_back(v);
  b.exe.main = Program::execute(cs);
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  HostBuffers in, out;
  engine.run(in, out);
  CHECK(halfValues(engine.readTile(0, 40, 4)) == std::vector<float>{21.5f, 43.5f});
  CHECK(halfValues(engine.readTile(0, 52, 4)) == std::vector<float>{65.0f, 87.0f});
  // poplibs' single-input reduce: 20 + loops * (2 per added input + loop overhead 7 + 1 for
  // scaling); 4 fp32 partials per accumulator vector, so one loop adding 2 inputs (the
  // second partial and the bias).
  CHECK(reducePartialsWorkerCycles(targetPreset("ipu2"), DType::Float32, DType::Float16, 4, 2, true, true) ==
        20 + 1 * (2 * 2 + 7 + 1));
}

TEST_CASE("ReducePartials, row-bias form: one bias element per row, strided or one region per partial") {
  // Five output elements of rows of 3, starting at column 2: rows 0 (1 element), 1 (3) and 2 (1).
  const std::vector<float> p0{1, 2, 3, 4, 5}, p1{10, 20, 30, 40, 50}, p2{100, 200, 300, 400, 500};
  const std::vector<float> rowBias{0.5f, -1, 4};
  for (bool strided : {false, true}) {
    ExecutableBuilder b(targetPreset("ipu2"));
    b.constant("p0", DType::Float32, {5}, 0, 0, toBytes(p0));
    // Strided: the received partials one region, 8 elements apart (a gap of 3 between them).
    b.constant("p1", DType::Float32, {5}, 0, 32, toBytes(p1));
    b.constant("p2", DType::Float32, {5}, 0, 64, toBytes(p2));
    b.constant("bias", DType::Float32, {3}, 0, 96, toBytes(rowBias));
    b.variable("out", DType::Float32, {5}, 0, 112);
    Vertex v;
    v.codelet = b.codelet("ReducePartials<float32,float32>");
    v.fields = {{{112, 20}}, {{0, 20}, {32, 20}, {64, 20}}, {{96, 12}}};
    v.scalars = {scalarFromDouble(1.0), scalarFromDouble(2.0), 0, 3, 2};
    if (strided) {
      v.fields[1] = {{0, 20}, {32, 52}};
      v.scalars[2] = 8;
    }
    CAPTURE(strided);
    const OneVertexRun run = runVertexOnTile0(b, v, 112, 20);
    CHECK(fromBytes<float>(run.out) == std::vector<float>{112, 220, 331, 442, 563});
    // Cycles as the expanded form: 2 loops of 4 fp32 partials, 3 inputs each (2 partials and
    // the bias), loop overhead 8 and 1 for scaling, plus the launch.
    CHECK(run.cycles == targetPreset("ipu2").vertexLaunchCycles +
                            targetPreset("ipu2").workerContexts * (20 + 2 * (3 * 2 + 8 + 1)));
  }
  // A bias of the wrong row count, and a first column past the row, are refused.
  ExecutableBuilder b(targetPreset("ipu2"));
  b.constant("p0", DType::Float32, {5}, 0, 0, toBytes(p0));
  b.constant("bias", DType::Float32, {3}, 0, 96, toBytes(rowBias));
  b.variable("out", DType::Float32, {5}, 0, 112);
  Vertex v;
  v.codelet = b.codelet("ReducePartials<float32,float32>");
  v.fields = {{{112, 20}}, {{0, 20}}, {{96, 8}}};
  v.scalars = {scalarFromDouble(1.0), scalarFromDouble(1.0), 0, 3, 2};
  CHECK_THROWS_WITH_AS(runVertexOnTile0(b, v, 112, 20), doctest::Contains("one element per row (3)"), SimError);
  v.fields[2] = {{96, 12}};
  v.scalars[4] = 3;
  CHECK_THROWS_WITH_AS(runVertexOnTile0(b, v, 112, 20), doctest::Contains("firstColumn < rowLength"), SimError);
}

TEST_CASE("the engine refuses a step in which an AMP vertex claims to beat the peak rate") {
  ExecutableBuilder b(targetPreset("ipu2"));
  b.variable("lhs", DType::Float16, {64 * 64}, 0, 0);
  b.variable("rhs", DType::Float16, {64 * 64}, 0, 8192);
  b.variable("out", DType::Float16, {64 * 64}, 0, 16384);
  const uint32_t cs = b.computeSet("too fast");
  b.vertex(cs, "AmpMatMul<float16,float16>", 3, {{0, 8192}, {8192, 8192}, {16384, 8192}});
  b.exe.computeSets[cs].vertices.back().scalars = {1, 64, 64, 64, 0, 0};

  // The real codelet is within the peak: 64^3 MACs need 4096 cycles at 64 MACs/cycle.
  const Codelet* real = CodeletRegistry::instance().find("AmpMatMul<float16,float16>");
  REQUIRE(real != nullptr);
  std::vector<const Codelet*> codelets{real};
  CHECK(planComputeSet(b.exe, b.exe.computeSets[cs], codelets).cycles > 4096);

  // A codelet that claims one cycle fewer than the peak allows is refused.
  Codelet liar = *real;
  liar.cycles = [](const Vertex&, const Target&) { return uint64_t{4095}; };
  codelets[0] = &liar;
  CHECK_THROWS_WITH_AS(planComputeSet(b.exe, b.exe.computeSets[cs], codelets),
                       doctest::Contains("internal: tile 3 beat the peak rate"), SimError);
  liar.cycles = [](const Vertex&, const Target&) { return uint64_t{4096}; };
  CHECK_NOTHROW(planComputeSet(b.exe, b.exe.computeSets[cs], codelets));
}
