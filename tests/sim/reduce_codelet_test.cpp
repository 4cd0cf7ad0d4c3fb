// OpTester-style tests of the reduction family's codelets on known values: Reduce (scatter
// and rows forms), ArgReduce/ArgMerge, the indexed elementwise ops, CumSum and TopK, and
// their cycle estimates.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/indexed_operands.h"
#include "sim/codelets/reduce_ops.h"
#include "sim/error.h"
#include "sim/target.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;
using codelets::ReduceFinish;

namespace {

const Codelet& codeletNamed(const std::string& name) {
  const Codelet* codelet = CodeletRegistry::instance().find(name);
  REQUIRE_MESSAGE(codelet != nullptr, name);
  return *codelet;
}

// A vertex's fields as host buffers: fields[f][r] is region r of field f.
struct Fields {
  std::vector<std::vector<std::vector<uint8_t>>> buffers;
  std::vector<int64_t> scalars;

  void run(const std::string& codelet) {
    VertexData data;
    for (auto& field : buffers) {
      data.fields.emplace_back();
      for (auto& region : field) data.fields.back().push_back(std::span<uint8_t>(region));
    }
    data.scalars = scalars;
    codeletNamed(codelet).kernel(data);
  }
};

std::vector<int64_t> reduceScalars(double divisor, ReduceFinish finish, std::vector<int64_t> regions = {}) {
  std::vector<int64_t> s{scalarFromDouble(divisor), static_cast<int64_t>(finish)};
  s.insert(s.end(), regions.begin(), regions.end());
  return s;
}

Vertex vertexWithRegions(const std::vector<std::vector<uint32_t>>& fieldRegionBytes, std::vector<int64_t> scalars) {
  Vertex vertex;
  for (const auto& field : fieldRegionBytes) {
    std::vector<Region> regions;
    for (uint32_t bytes : field) regions.push_back({0, bytes});
    vertex.fields.push_back(regions);
  }
  vertex.scalars = std::move(scalars);
  return vertex;
}

}  // namespace

TEST_CASE("Reduce scatter form folds each region into its output range, then divides and finishes") {
  // Region 0: two rows of width 2 into outputs [0,2); region 1: three elements into output 2.
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{1, 2, 3, 4}), toBytes(std::vector<float>{5, 6, 7})},
               {std::vector<uint8_t>(8), std::vector<uint8_t>(4)}};
  f.scalars = reduceScalars(2.0, ReduceFinish::None, {0, 2, 2, 1});
  f.run("ReduceAdd<float32,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{2, 3});  // (1+3)/2, (2+4)/2
  CHECK(fromBytes<float>(f.buffers[1][1]) == std::vector<float>{9});     // 18/2

  f.buffers[1] = {std::vector<uint8_t>(12)};
  f.scalars = reduceScalars(1.0, ReduceFinish::Sqrt, {0, 2, 2, 1});
  f.run("ReduceSquareAdd<float32,float32>");
  const auto l2 = fromBytes<float>(f.buffers[1][0]);
  CHECK(l2[0] == doctest::Approx(std::sqrt(10.0)));
  CHECK(l2[2] == doctest::Approx(std::sqrt(110.0)));

  f.scalars = reduceScalars(1.0, ReduceFinish::Log, {0, 2, 2, 1});
  f.run("ReduceAbsAdd<float32,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0])[1] == doctest::Approx(std::log(6.0)));
}

TEST_CASE("Reduce keeps float partials for half data and wraps integers") {
  Fields f;
  f.buffers = {{halfBytes({1000, 0.5f, 0.25f})}, {std::vector<uint8_t>(4)}};
  f.scalars = reduceScalars(1.0, ReduceFinish::None, {0, 1});
  f.run("ReduceAdd<float16,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{1000.75f});  // 1000.75 is not a half

  Fields i;
  i.buffers = {{toBytes(std::vector<int32_t>{std::numeric_limits<int32_t>::max(), 1, -7})}, {std::vector<uint8_t>(4)}};
  i.scalars = reduceScalars(1.0, ReduceFinish::None, {0, 1});
  i.run("ReduceAdd<int32,int32>");
  CHECK(fromBytes<int32_t>(i.buffers[1][0]) == std::vector<int32_t>{2147483641});  // wraps past max, then -7
  i.scalars = reduceScalars(2.0, ReduceFinish::None, {0, 1});
  i.buffers[0] = {toBytes(std::vector<int32_t>{-3, -2, 0})};
  i.run("ReduceAdd<int32,int32>");
  CHECK(fromBytes<int32_t>(i.buffers[1][0]) == std::vector<int32_t>{-2});  // -5 / 2 truncates
}

TEST_CASE("Reduce Max propagates NaN, Mul starts from one, LogAdd is a stable log-sum-exp") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{1, nan, 3})}, {std::vector<uint8_t>(4)}};
  f.scalars = reduceScalars(1.0, ReduceFinish::None, {0, 1});
  f.run("ReduceMax<float32,float32>");
  CHECK(std::isnan(fromBytes<float>(f.buffers[1][0])[0]));

  f.buffers[0] = {};  // no input: the identity
  f.scalars = reduceScalars(1.0, ReduceFinish::None);
  f.run("ReduceMul<float32,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{1});
  f.run("ReduceMin<float32,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{std::numeric_limits<float>::infinity()});

  f.buffers[0] = {toBytes(std::vector<float>{1000, 1000, 999})};
  f.scalars = reduceScalars(1.0, ReduceFinish::None, {0, 1});
  f.run("ReduceLogAdd<float32,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0])[0] ==
        doctest::Approx(1000 + std::log(2 + std::exp(-1.0))).epsilon(1e-7));
}

TEST_CASE("ReduceRows reduces each row of paired regions into consecutive outputs") {
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{1, 2, 3, 4, 5, 6}), toBytes(std::vector<float>{-1, -2, -3})},
               {std::vector<uint8_t>(8), std::vector<uint8_t>(4)}};
  f.scalars = reduceScalars(3.0, ReduceFinish::None, {3});
  f.run("ReduceRowsAdd<float32,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{2, 5});
  CHECK(fromBytes<float>(f.buffers[1][1]) == std::vector<float>{-2});
  f.scalars = reduceScalars(1.0, ReduceFinish::None, {3});
  f.run("ReduceRowsMin<float32,float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{1, 4});

  f.scalars = reduceScalars(1.0, ReduceFinish::None, {4});  // 6 elements are not rows of 4
  CHECK_THROWS_AS(f.run("ReduceRowsAdd<float32,float32>"), SimError);
}

TEST_CASE("Reduce rejects a region that does not fit its output range") {
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{1, 2, 3})}, {std::vector<uint8_t>(8)}};
  f.scalars = reduceScalars(1.0, ReduceFinish::None, {0, 2});  // 3 is not a multiple of 2
  CHECK_THROWS_AS(f.run("ReduceAdd<float32,float32>"), SimError);
  f.scalars = reduceScalars(1.0, ReduceFinish::None, {1, 2});  // [1, 3) leaves the output
  CHECK_THROWS_AS(f.run("ReduceAdd<float32,float32>"), SimError);
  f.scalars = reduceScalars(1.0, ReduceFinish::None);  // no scalars for the region
  CHECK_THROWS_AS(f.run("ReduceAdd<float32,float32>"), SimError);
}

TEST_CASE("ArgReduce finds positions, ties to the first or with selectLast the last; ArgMerge keeps that rule") {
  // Two rows of width 2 at axis positions 5 and 6: column 0 ties (3, 3), column 1 is 1 then 9.
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{3, 1, 3, 9})}, {std::vector<uint8_t>(8)}, {std::vector<uint8_t>(16)}};
  f.scalars = {0, 0, 2, 5};
  f.run("ArgReduceMax<float32>");
  CHECK(fromBytes<int64_t>(f.buffers[2][0]) == std::vector<int64_t>{5, 6});
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{3, 9});
  f.scalars = {1, 0, 2, 5};
  f.run("ArgReduceMax<float32>");
  CHECK(fromBytes<int64_t>(f.buffers[2][0]) == std::vector<int64_t>{6, 6});
  f.scalars = {0, 0, 2, 5};
  f.run("ArgReduceMin<float32>");
  CHECK(fromBytes<int64_t>(f.buffers[2][0]) == std::vector<int64_t>{5, 5});

  Fields rows;
  rows.buffers = {{toBytes(std::vector<int32_t>{4, 7, 7, 2, -1, -1})}, {std::vector<uint8_t>(8)},
                  {std::vector<uint8_t>(16)}};
  rows.scalars = {0, 3};
  rows.run("ArgReduceRowsMax<int32>");
  CHECK(fromBytes<int64_t>(rows.buffers[2][0]) == std::vector<int64_t>{1, 0});

  // Merging partials (value, position): ties go by position, not by arrival order.
  Fields m;
  m.buffers = {{toBytes(std::vector<float>{5}), toBytes(std::vector<float>{5})},
               {toBytes(std::vector<int64_t>{9}), toBytes(std::vector<int64_t>{4})},
               {std::vector<uint8_t>(4)},
               {std::vector<uint8_t>(8)}};
  m.scalars = {0, 0, 1, 0, 1};
  m.run("ArgMergeMax<float32>");
  CHECK(fromBytes<int64_t>(m.buffers[3][0]) == std::vector<int64_t>{4});
  m.scalars = {1, 0, 1, 0, 1};
  m.run("ArgMergeMax<float32>");
  CHECK(fromBytes<int64_t>(m.buffers[3][0]) == std::vector<int64_t>{9});
}

TEST_CASE("indexed codelets read broadcast operands through their patterns") {
  // out[r, c] = x[r, c] - m[r] for a 2x3 block starting at flat element 6 of a [4, 3] tensor.
  std::vector<int64_t> scalars{6};
  codelets::appendIndexPattern(scalars, {6, {{12, 1}}});       // x: identity, slice from 6
  codelets::appendIndexPattern(scalars, {2, {{3, 0}, {4, 1}}});  // m: row index, slice from 2
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{7, 8, 9, 10, 11, 12})},
               {toBytes(std::vector<float>{100, 200})},
               {std::vector<uint8_t>(24)}};
  f.scalars = scalars;
  f.run("IndexedSub<float32>");
  CHECK(fromBytes<float>(f.buffers[2][0]) == std::vector<float>{-93, -92, -91, -190, -189, -188});

  f.run("SoftmaxExp<float32>");
  CHECK(fromBytes<float>(f.buffers[2][0])[0] == doctest::Approx(std::exp(-93.0)));

  // A transposed view: out[i, j] = a[j, i] for a [2, 3] a.
  std::vector<int64_t> t{0};
  codelets::appendIndexPattern(t, {0, {{2, 3}, {3, 1}}});
  Fields tr;
  tr.buffers = {{toBytes(std::vector<int32_t>{1, 2, 3, 4, 5, 6})}, {std::vector<uint8_t>(24)}};
  tr.scalars = t;
  tr.run("IndexedCopy<int32>");
  CHECK(fromBytes<int32_t>(tr.buffers[1][0]) == std::vector<int32_t>{1, 4, 2, 5, 3, 6});

  // An index outside the slice is an error, not a stray read.
  std::vector<int64_t> bad{0};
  codelets::appendIndexPattern(bad, {0, {{6, 2}}});
  tr.scalars = bad;
  CHECK_THROWS_AS(tr.run("IndexedCopy<int32>"), SimError);
}

TEST_CASE("InvStdDev, NormAffine, BatchNorm, Hardmax and LRN compute their formulas") {
  auto identity = [](int64_t first, int64_t size) {
    std::vector<int64_t> s;
    codelets::appendIndexPattern(s, {first, {{static_cast<uint64_t>(size), 1}}});
    return s;
  };
  Fields inv;
  inv.buffers = {{toBytes(std::vector<float>{3, 0})}, {std::vector<uint8_t>(8)}};
  inv.scalars = {scalarFromDouble(1.0), 0, 0};
  auto pattern = identity(0, 2);
  inv.scalars.insert(inv.scalars.end(), pattern.begin(), pattern.end());
  inv.run("InvStdDev<float32>");
  CHECK(fromBytes<float>(inv.buffers[1][0]) == std::vector<float>{0.5f, 1.0f});
  inv.scalars[1] = 1;  // epsilon added to the standard deviation
  inv.run("InvStdDev<float32>");
  CHECK(fromBytes<float>(inv.buffers[1][0])[0] == doctest::Approx(1 / (std::sqrt(3.0) + 1)));

  Fields bn;  // (x - mean) * coefficient + bias
  std::vector<int64_t> s{0};
  for (int k = 0; k < 4; ++k) {
    auto p = identity(0, 2);
    s.insert(s.end(), p.begin(), p.end());
  }
  bn.buffers = {{toBytes(std::vector<float>{5, 6})}, {toBytes(std::vector<float>{1, 2})},
                {toBytes(std::vector<float>{2, 3})}, {toBytes(std::vector<float>{10, 20})}, {std::vector<uint8_t>(8)}};
  bn.scalars = s;
  bn.run("BatchNormApply<float32>");
  CHECK(fromBytes<float>(bn.buffers[4][0]) == std::vector<float>{18, 32});
  bn.run("NormAffine<float32>");
  CHECK(fromBytes<float>(bn.buffers[4][0]) == std::vector<float>{20, 56});

  // Hardmax over an axis of 3 with inner size 2: positions of elements 0..5 are 0,0,1,1,2,2.
  Fields h;
  h.buffers = {{toBytes(std::vector<int64_t>{2, 0})}, {std::vector<uint8_t>(24)}};
  h.scalars = {3, 2, 0};
  codelets::appendIndexPattern(h.scalars, {0, {{2, 1}, {3, 0}}});
  h.run("HardmaxOneHot<float32>");
  CHECK(fromBytes<float>(h.buffers[1][0]) == std::vector<float>{0, 1, 0, 0, 1, 0});

  // LRN over 3 channels of spatial size 1, size 3: y = x / (bias + alpha/3 * sum x^2)^beta.
  Fields lrn;
  lrn.buffers = {{toBytes(std::vector<float>{1, 2, 3})}, {std::vector<uint8_t>(12)}};
  lrn.scalars = {scalarFromDouble(3.0), scalarFromDouble(0.5), scalarFromDouble(1.0), 3, 3, 1, 0};
  auto p = identity(0, 3);
  lrn.scalars.insert(lrn.scalars.end(), p.begin(), p.end());
  lrn.run("LRN<float32>");
  const auto y = fromBytes<float>(lrn.buffers[1][0]);
  CHECK(y[0] == doctest::Approx(1 / std::sqrt(1 + 5.0)));   // channels 0, 1
  CHECK(y[1] == doctest::Approx(2 / std::sqrt(1 + 14.0)));  // channels 0..2
  CHECK(y[2] == doctest::Approx(3 / std::sqrt(1 + 13.0)));  // channels 1, 2
}

TEST_CASE("CumSum scans each column of a block, exclusive and reversed on request") {
  // One block [axis 3, width 2]: columns (1, 3, 5) and (2, 4, 6).
  Fields f;
  f.buffers = {{toBytes(std::vector<int32_t>{1, 2, 3, 4, 5, 6})}, {std::vector<uint8_t>(24)}};
  f.scalars = {3, 2, 0, 0};
  f.run("CumSum<int32>");
  CHECK(fromBytes<int32_t>(f.buffers[1][0]) == std::vector<int32_t>{1, 2, 4, 6, 9, 12});
  f.scalars = {3, 2, 1, 0};
  f.run("CumSum<int32>");
  CHECK(fromBytes<int32_t>(f.buffers[1][0]) == std::vector<int32_t>{0, 0, 1, 2, 4, 6});
  f.scalars = {3, 2, 1, 1};
  f.run("CumSum<int32>");
  CHECK(fromBytes<int32_t>(f.buffers[1][0]) == std::vector<int32_t>{8, 10, 5, 6, 0, 0});
}

TEST_CASE("TopK returns sorted values and positions, ties to the lower position") {
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{3, 7, 7, 1, 3})}, {std::vector<uint8_t>(12)}, {std::vector<uint8_t>(24)}};
  f.scalars = {5, 1, 3, 1};
  f.run("TopK<float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{7, 7, 3});
  CHECK(fromBytes<int64_t>(f.buffers[2][0]) == std::vector<int64_t>{1, 2, 0});
  f.scalars = {5, 1, 3, 0};
  f.run("TopK<float32>");
  CHECK(fromBytes<float>(f.buffers[1][0]) == std::vector<float>{1, 3, 3});
  CHECK(fromBytes<int64_t>(f.buffers[2][0]) == std::vector<int64_t>{3, 0, 4});
}

TEST_CASE("reduction cycle estimates follow poplibs' reduce estimator") {
  const Target target = targetPreset("ipu2");
  // Scatter Add, fp32: 33 + 27 per output region + per input region 11 + ceil(n / 4) * 7.
  const Vertex add = vertexWithRegions({{40, 16}, {8}}, reduceScalars(1.0, ReduceFinish::None, {0, 2, 0, 2}));
  CHECK(codeletNamed("ReduceAdd<float32,float32>").cycles(add, target) == 33 + 27 + (11 + 3 * 7) + (11 + 1 * 7));
  // Max, fp16: 8 cycles per 4 halves.
  const Vertex max = vertexWithRegions({{16}, {2}}, reduceScalars(1.0, ReduceFinish::None, {0, 1}));
  CHECK(codeletNamed("ReduceMax<float16,float16>").cycles(max, target) == 33 + 27 + 11 + 2 * 8);
  // Rows: 17 + per output (12 + ceil(L / 2)); the mean's divide adds a cycle per output vector.
  const Vertex rows = vertexWithRegions({{48}, {12}}, reduceScalars(4.0, ReduceFinish::None, {4}));
  CHECK(codeletNamed("ReduceRowsAdd<float32,float32>").cycles(rows, target) == 17 + 3 * (12 + 2) + 2);
}

TEST_CASE("mixed-type indexed signatures read float16 data with float32 statistics") {
  // y = centred (f32) * invStdDev (f32) * scale (f16) + bias (f16), stored as f16.
  std::vector<int64_t> s{0};
  for (int k = 0; k < 4; ++k) codelets::appendIndexPattern(s, {0, {{2, 1}}});
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{0.001f, -2.0f})}, {toBytes(std::vector<float>{1000.0f, 0.5f})},
               {halfBytes({2.0f, 1.0f})}, {halfBytes({0.25f, 1.0f})}, {std::vector<uint8_t>(4)}};
  f.scalars = s;
  f.run("NormAffine<float32,float32,float16,float16,float16>");
  CHECK(halfValues(f.buffers[4][0]) == std::vector<float>{2.25f, 0.0f});
  CHECK(CodeletRegistry::instance().find("IndexedDiv<float32,float32,float16>") != nullptr);
  CHECK(CodeletRegistry::instance().find("SoftmaxExp<float16,float32,float32>") != nullptr);
}

TEST_CASE("TopKMerge ranks candidates by their position in the whole line") {
  // Two pieces of 4 elements, 2 candidates each: positions 2, 0 and 4 + 1, 4 + 3.
  Fields f;
  f.buffers = {{toBytes(std::vector<float>{9, 7, 9, 8})},
               {toBytes(std::vector<int64_t>{2, 0, 1, 3})},
               {std::vector<uint8_t>(12)},
               {std::vector<uint8_t>(24)}};
  f.scalars = {4, 1, 3, 1, 4, 2};
  f.run("TopKMerge<float32>");
  CHECK(fromBytes<float>(f.buffers[2][0]) == std::vector<float>{9, 9, 8});
  CHECK(fromBytes<int64_t>(f.buffers[3][0]) == std::vector<int64_t>{2, 5, 7});
}
