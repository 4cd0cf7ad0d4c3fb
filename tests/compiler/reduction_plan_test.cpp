// The reduction plan (compiler/lowering/reduction.h): a tensor spread over all 1472 tiles
// reduces to the same answer as the same tensor on one tile, through the stages poplibs
// would use (per-tile partials, an intermediate stage, the final stage on the output's
// tiles), and the single-stage case maps the output where its rows are.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "compiler/compiler.h"
#include "compiler/lowering/indexed_step.h"
#include "compiler/lowering/reduction.h"
#include "compiler/memory/memory_planner.h"
#include "sim/engine.h"
#include "sim/target.h"

using namespace ipusim;
using codelets::ReduceFinish;
using codelets::ReduceOp;

namespace {

// Where the input lives: spread linearly over tiles, all on tile 0, or `rowsPerTile` whole
// rows of `rowLength` elements on each tile.
struct Placement {
  enum Kind { AllTiles, OneTile, WholeRows } kind = AllTiles;
  uint64_t rowLength = 0, rowsPerTile = 0;
  std::vector<TileSpan> mapping(uint64_t n, DType dtype, const Target& target) const {
    if (kind == OneTile) return {{0, 0, n}};
    if (kind == AllTiles) return linearMapping(n, dtype, target);
    std::vector<TileSpan> spans;
    for (uint64_t first = 0, tile = 0; first < n; first += rowLength * rowsPerTile, ++tile) {
      spans.push_back({static_cast<uint32_t>(tile), first, std::min(n - first, rowLength * rowsPerTile)});
    }
    return spans;
  }
};
const Placement kAllTiles{Placement::AllTiles}, kOneTile{Placement::OneTile};

template <typename T>
ConstTensor tensorOf(DType dtype, const Shape& shape, const std::vector<T>& values) {
  ConstTensor t{dtype, shape, std::vector<uint8_t>(values.size() * sizeof(T))};
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

// Builds input -> `emit` -> output stream on a fresh ipu2, runs it, returns the output bytes.
struct Run {
  std::vector<uint8_t> bytes;
  ReducePlanInfo info;
  std::set<uint32_t> outputTiles;
};

template <typename Emit>
Run runGraph(const ConstTensor& input, Placement placement, Emit&& emit) {
  GraphBuilder b(targetPreset("ipu2"));
  b.beginScope();
  const uint64_t n = static_cast<uint64_t>(input.elements());
  const std::vector<TileSpan> mapping = placement.mapping(n, input.dtype, b.target());
  const uint32_t var = b.addConstant("x", input, mapping);
  Run run;
  const TensorValue out = emit(b, TensorValue{var, input.dtype, input.shape}, run.info);
  for (const TileSpan& s : b.variable(out.var).mapping) run.outputTiles.insert(s.tile);
  b.streamCopy(b.addStream("out", StreamDirection::DeviceToHost, out.var, out.shape));
  Program main = b.takeSequence();
  b.endScope();
  const BuiltGraph& graph = b.graph();
  auto exe = std::make_shared<const Executable>(finalizeExecutable(graph, planMemory(graph), std::move(main), {}));
  Engine engine(2);
  engine.load(exe);
  HostBuffers outputs;
  engine.run({}, outputs);
  run.bytes = outputs.at("out");
  return run;
}

Run runReduce(const ConstTensor& input, Placement placement, const ReduceSpec& spec, const Shape& outShape) {
  return runGraph(input, placement, [&](GraphBuilder& b, const TensorValue& in, ReducePlanInfo& info) {
    return reduceTensor(b, "r", in, spec, outShape, &info);
  });
}

template <typename T>
std::vector<T> as(const std::vector<uint8_t>& bytes) {
  std::vector<T> v(bytes.size() / sizeof(T));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("a sum over all 1472 tiles equals the sum on one tile, through a tree of stages") {
  // 46 floats on each of the 1472 tiles.
  constexpr size_t kN = 368 * 184;
  const std::vector<float> values = randomFloats(kN, 1);
  const ConstTensor input = tensorOf(DType::Float32, {368, 184}, values);
  ReduceSpec spec;
  spec.axes = {0, 1};
  spec.outDtype = DType::Float32;

  const Run spread = runReduce(input, kAllTiles, spec, {});
  const Run single = runReduce(input, kOneTile, spec, {});
  CHECK(spread.info.inputTiles == 1472);
  CHECK(spread.info.maxPartialsPerOutput == 1472);  // one partial per tile
  CHECK(spread.info.stages == 3);                   // per tile, groups of ~sqrt(1472), final
  CHECK(single.info.inputTiles == 1);
  CHECK(single.info.maxPartialsPerOutput == 6);  // one partial per worker
  CHECK(single.info.stages == 2);

  double exact = 0, magnitude = 0;
  for (float x : values) {
    exact += x;
    magnitude += std::fabs(x);
  }
  // float32 sums: each stage rounds its partials to float (vertices accumulate in double),
  // so the two orders differ by a few float roundings of partials. Tolerance: 1e-6 of the
  // sum of magnitudes (about 2.7e-2 here; the observed difference is far smaller).
  const float a = as<float>(spread.bytes).at(0), c = as<float>(single.bytes).at(0);
  CHECK(std::fabs(a - c) <= 1e-6 * magnitude);
  CHECK(std::fabs(a - exact) <= 1e-6 * magnitude);
}

TEST_CASE("column sums, row maxima and a middle-axis minimum agree between 1472 tiles and one") {
  const std::vector<float> values = randomFloats(40 * 72 * 32, 2);
  const ConstTensor input = tensorOf(DType::Float32, {40, 72, 32}, values);
  struct Case {
    ReduceOp op;
    std::vector<int64_t> axes;
    Shape out;
  };
  for (const Case& k : {Case{ReduceOp::Add, {0}, {72, 32}}, Case{ReduceOp::Max, {2}, {40, 72}},
                        Case{ReduceOp::Min, {1}, {40, 32}}, Case{ReduceOp::SquareAdd, {0, 2}, {72}}}) {
    CAPTURE(static_cast<int>(k.op));
    ReduceSpec spec;
    spec.op = k.op;
    spec.axes = k.axes;
    spec.outDtype = DType::Float32;
    const auto spread = as<float>(runReduce(input, kAllTiles, spec, k.out).bytes);
    const auto single = as<float>(runReduce(input, kOneTile, spec, k.out).bytes);
    REQUIRE(spread.size() == single.size());
    for (size_t i = 0; i < spread.size(); ++i) {
      if (k.op == ReduceOp::Max || k.op == ReduceOp::Min) {
        CHECK(spread[i] == single[i]);  // order-independent: exact
      } else {
        CHECK(std::fabs(spread[i] - single[i]) <= 1e-5f * (1 + std::fabs(single[i])));
      }
    }
  }
}

TEST_CASE("rows held whole by their tiles reduce in one stage, the output mapped where the rows are") {
  const std::vector<float> values = randomFloats(4096 * 64, 3);
  const ConstTensor input = tensorOf(DType::Float32, {4096, 64}, values);
  ReduceSpec spec;
  spec.op = ReduceOp::Add;
  spec.axes = {1};
  spec.divisor = 64;  // a mean
  spec.outDtype = DType::Float32;
  const Run run = runReduce(input, Placement{Placement::WholeRows, 64, 4}, spec, {4096, 1});
  CHECK(run.info.stages == 1);
  CHECK(run.outputTiles.size() == 1024);  // each tile's four results stay on it
  const auto out = as<float>(run.bytes);
  for (size_t r = 0; r < 4096; r += 511) {
    double sum = 0;
    for (size_t c = 0; c < 64; ++c) sum += values[r * 64 + c];
    CHECK(out[r] == doctest::Approx(sum / 64).epsilon(1e-6));
  }
}

TEST_CASE("integer sums and means are exact whatever the tile count") {
  std::vector<int32_t> values(300 * 200);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int32_t>(i % 97) - 40;
  const ConstTensor input = tensorOf(DType::Int32, {300, 200}, values);
  ReduceSpec spec;
  spec.axes = {0};
  spec.divisor = 300;
  spec.outDtype = DType::Int32;
  const auto spread = as<int32_t>(runReduce(input, kAllTiles, spec, {1, 200}).bytes);
  const auto single = as<int32_t>(runReduce(input, kOneTile, spec, {1, 200}).bytes);
  CHECK(spread == single);
  int64_t sum = 0;
  for (size_t r = 0; r < 300; ++r) sum += values[r * 200 + 7];
  CHECK(spread[7] == static_cast<int32_t>(sum / 300));  // truncates toward zero
}

TEST_CASE("ArgMax over all tiles picks the first of tied maxima, ArgMin with select_last the last") {
  std::vector<float> values(128 * 1024);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 7919) % 13);  // many ties
  const ConstTensor input = tensorOf(DType::Float32, {128, 1024}, values);
  for (bool isMax : {true, false}) {
    for (int64_t axis : {0, 1}) {
      ArgReduceSpec spec{isMax, {axis}, !isMax};
      const Shape outShape = axis == 0 ? Shape{1024} : Shape{128};
      auto emit = [&](GraphBuilder& b, const TensorValue& in, ReducePlanInfo& info) {
        return argReduceTensor(b, "a", in, spec, outShape, &info);
      };
      const auto spread = as<int64_t>(runGraph(input, kAllTiles, emit).bytes);
      const auto single = as<int64_t>(runGraph(input, kOneTile, emit).bytes);
      CHECK(spread == single);
      // Host reference.
      const size_t rows = 128, cols = 1024;
      const size_t outputs = axis == 0 ? cols : rows, along = axis == 0 ? rows : cols;
      for (size_t o = 0; o < outputs; o += 37) {
        int64_t best = -1;
        for (size_t k = 0; k < along; ++k) {
          const float v = axis == 0 ? values[k * cols + o] : values[o * cols + k];
          const float bv = best < 0 ? 0 : (axis == 0 ? values[static_cast<size_t>(best) * cols + o]
                                                     : values[o * cols + static_cast<size_t>(best)]);
          const bool better = best < 0 || (isMax ? v > bv : v < bv) || (!isMax && v == bv);  // last for ArgMin
          if (better) best = static_cast<int64_t>(k);
        }
        CHECK(spread[o] == best);
      }
    }
  }
}

TEST_CASE("an empty reduction gives the op's identity, finished") {
  const ConstTensor input{DType::Float32, {3, 0}, {}};
  ReduceSpec spec;
  spec.axes = {1};
  spec.outDtype = DType::Float32;
  CHECK(as<float>(runReduce(input, kAllTiles, spec, {3}).bytes) == std::vector<float>{0, 0, 0});
  spec.op = ReduceOp::Mul;
  CHECK(as<float>(runReduce(input, kAllTiles, spec, {3}).bytes) == std::vector<float>{1, 1, 1});
  spec.op = ReduceOp::LogAdd;
  const auto lse = as<float>(runReduce(input, kAllTiles, spec, {3}).bytes);
  CHECK(std::isinf(lse[0]));
  CHECK(lse[0] < 0);
}

TEST_CASE("a broadcast operand moves only the elements each tile reads") {
  // x [2048, 64] spread over tiles; the row statistic [2048, 1] broadcast along the rows.
  const std::vector<float> x = randomFloats(2048 * 64, 4);
  std::vector<float> rowValues(2048);
  for (size_t r = 0; r < rowValues.size(); ++r) rowValues[r] = static_cast<float>(r);
  const ConstTensor input = tensorOf(DType::Float32, {2048, 64}, x);
  const Run run = runGraph(input, kAllTiles, [&](GraphBuilder& b, const TensorValue& in, ReducePlanInfo&) {
    const ConstTensor stat = tensorOf(DType::Float32, {2048, 1}, rowValues);
    const uint32_t statVar = b.addConstant("stat", stat);  // linear: not where the rows are
    const TensorValue s{statVar, DType::Float32, {2048, 1}};
    const auto mapping = b.variable(in.var).mapping;
    const TensorValue out = indexedStep(b, "sub", "IndexedSub<float32>",
                                        {broadcastOperand(in, in.shape), broadcastOperand(s, in.shape)},
                                        DType::Float32, in.shape, mapping);
    // The exchange brings each tile only its rows' statistics.
    uint64_t copied = 0;
    for (const auto& ex : b.graph().exchanges)
      for (const auto& c : ex.copies) copied += c.src.count;
    CHECK(copied <= 2048 + 2 * 1472);
    return out;
  });
  const auto out = as<float>(run.bytes);
  for (size_t i = 0; i < out.size(); i += 997) CHECK(out[i] == x[i] - static_cast<float>(i / 64));
}
