// Convolutions as planned products (compiler/planning/conv_planner.h, docs/conv-planner.md):
// pads under auto_pad, the prepared input and the im2col offsets on known values, the plan
// of ResNet-50's first convolution, its estimate against the engine, and compiled Conv,
// ConvTranspose and pooling models against direct reference loops.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/compiler.h"
#include "compiler/lowering/tile_mapping.h"
#include "compiler/planning/conv_planner.h"
#include "layout_test_support.h"
#include "sim/engine.h"
#include "sim/half.h"

using namespace ipusim;
using namespace ipusim::layout_test;

namespace {

// Every step's name and cycles.
struct Steps : StepObserver {
  std::vector<std::pair<std::string, uint64_t>> steps;
  void onStep(const StepRecord& step) override { steps.emplace_back(std::string(step.name), step.cycles); }
};

ConvSpec resnetFirstConv() {
  ConvSpec s;
  s.batch = 1;
  s.inChannels = 3;
  s.outChannels = 64;
  s.inSpatial = {224, 224};
  s.kernel = {7, 7};
  s.strides = {2, 2};
  s.dilations = {1, 1};
  s.padBegin = {3, 3};
  s.padEnd = {3, 3};
  s.outSpatial = {112, 112};
  return s;
}

// Deterministic test values in [-1, 1).
std::vector<float> values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (float& e : v) {
    x = x * 1664525u + 1013904223u;
    e = static_cast<float>(x >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return v;
}

// Conv by its definition, over [N][C][H][W] (2-D only, the test's cases).
std::vector<float> referenceConv(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                 const ConvSpec& s) {
  const int64_t N = s.batch, C = s.inChannels, M = s.outChannels, G = s.groups, H = s.inSpatial[0],
                W = s.inSpatial[1], OH = s.outSpatial[0], OW = s.outSpatial[1], KH = s.kernel[0], KW = s.kernel[1];
  const int64_t Cg = C / G, Mg = M / G;
  std::vector<float> y(static_cast<size_t>(N * M * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double sum = b.empty() ? 0.0 : b[static_cast<size_t>(m)];
          const int64_t g = m / Mg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t ih = oh * s.strides[0] + kh * s.dilations[0] - s.padBegin[0];
                const int64_t iw = ow * s.strides[1] + kw * s.dilations[1] - s.padBegin[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += static_cast<double>(x[static_cast<size_t>(((n * C + g * Cg + c) * H + ih) * W + iw)]) *
                       w[static_cast<size_t>(((m * Cg + c) * KH + kh) * KW + kw)];
              }
          y[static_cast<size_t>(((n * M + m) * OH + oh) * OW + ow)] = static_cast<float>(sum);
        }
  return y;
}

void checkClose(const std::vector<float>& got, const std::vector<float>& want, float tolerance) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(std::fabs(got[i] - want[i]) <= tolerance * (1.0f + std::fabs(want[i])));
  }
}

}  // namespace

TEST_CASE("auto_pad and ConvTranspose's output_shape resolve the pads as ONNX defines them") {
  // Conv, SAME: the output is ceil(in / stride); the odd pad goes last (UPPER) or first.
  CHECK(resolveAxisPads("SAME_UPPER", 5, 3, 3, 2, 1, 0, 0).begin == 1);
  CHECK(resolveAxisPads("SAME_UPPER", 5, 3, 3, 2, 1, 0, 0).end == 1);
  CHECK(resolveAxisPads("SAME_UPPER", 4, 2, 3, 2, 1, 0, 0).begin == 0);
  CHECK(resolveAxisPads("SAME_UPPER", 4, 2, 3, 2, 1, 0, 0).end == 1);
  CHECK(resolveAxisPads("SAME_LOWER", 4, 2, 3, 2, 1, 0, 0).begin == 1);
  CHECK(resolveAxisPads("VALID", 4, 2, 3, 2, 1, 5, 5).begin == 0);
  CHECK(resolveAxisPads("NOTSET", 4, 2, 3, 2, 1, 2, 1).end == 1);
  // ConvTranspose with output_shape 10 from 3 inputs, stride 3, kernel 3: the natural length
  // is 9, so the total padding is -1 and the extra (zero) position goes at the end.
  const AxisPads pads = resolveTransposePads("NOTSET", true, 3, 10, 3, 3, 1, 0, 0, 0);
  CHECK(pads.begin == 0);
  CHECK(pads.end == -1);
  CHECK(resolveTransposePads("SAME_UPPER", false, 3, 10, 3, 3, 1, 0, 0, 0).begin == -1);
  CHECK(resolveTransposePads("NOTSET", false, 3, 9, 3, 3, 1, 0, 2, 1).begin == 2);
}

TEST_CASE("ResNet-50's first convolution is a 64 x 147 x 12544 product over a phase-split input") {
  const ConvProduct c = convProduct(resnetFirstConv(), DType::Float16, DType::Float32, DType::Float16);
  CHECK(c.problem.groups == 1);
  CHECK(c.problem.m == 64);
  CHECK(c.problem.k == 147);
  CHECK(c.problem.n == 12544);
  // Padded to 230 x 230, split by the stride 2 into 2 x 2 phases of 115 x 115.
  CHECK_FALSE(c.input.direct);
  CHECK(c.input.phase == std::vector<int64_t>{2, 2});
  CHECK(c.input.phaseLength == std::vector<int64_t>{115, 115});
  CHECK(c.input.planeElements() == 4 * 115 * 115);
  // Prepared (phase (0,0), q (0,0)) is padded position (0,0): a zero; q (2,2) is position
  // (4,4), input (1,1) = element 225.
  CHECK(c.input.sourceOf(0) == kNoConvSource);
  CHECK(c.input.sourceOf(2 * 115 + 2) == 225);
  // Phase (1,1), q (1,1) is padded (3,3): input (0,0).
  CHECK(c.input.sourceOf(3 * 115 * 115 + 116) == 0);
  // im2col row (c 0, kh 0, kw 1) reads phase (0,1); kw 2 reads phase (0,0) one q further;
  // row (c 1, 0, 0) the next channel's plane.
  CHECK(c.inputRow[0] == 0);
  CHECK(c.inputRow[1] == 115 * 115);
  CHECK(c.inputRow[2] == 1);
  CHECK(c.inputRow[7] == 2 * 115 * 115);  // kh 1: phase (1,0)
  CHECK(c.inputRow[49] == 4 * 115 * 115);
  // Columns: consecutive output positions are consecutive prepared elements (runs, not
  // single elements, whatever the stride).
  CHECK(c.inputCol[1] == 1);
  CHECK(c.inputCol[112] == 115);
  CHECK(c.weightRow[1] == 147);
  CHECK(c.weightCol[146] == 146);
  CHECK(c.im2colReplication == 12);  // ceil(147 x 12544 / (3 x 52900))
}

TEST_CASE("a 1x1 stride-1 convolution reads its input in place; groups and ConvTranspose views") {
  ConvSpec s;
  s.batch = 2;
  s.inChannels = 4;
  s.outChannels = 8;
  s.groups = 2;
  s.inSpatial = {3, 5};
  s.kernel = {1, 1};
  s.strides = s.dilations = {1, 1};
  s.padBegin = s.padEnd = {0, 0};
  s.outSpatial = {3, 5};
  ConvProduct c = convProduct(s, DType::Float32, DType::Float32, DType::Float32);
  CHECK(c.input.direct);
  CHECK(c.problem.groups == 4);  // batch x groups
  CHECK(c.problem.m == 4);
  CHECK(c.problem.k == 2);
  CHECK(c.problem.lhsGroups == 2);
  // Group (image 1, group 1) reads channels 2 and 3 of image 1.
  CHECK(c.inputGroupOffset[3] == (4 + 2) * 15);
  CHECK(c.inputRow[1] == 15);
  CHECK(c.weightGroupOffset[3] == 4 * 2);
  CHECK(c.biasGroupOffset[3] == 4);

  // ConvTranspose: W is [C][M/G][k], read with channels swapped and the kernel flipped; the
  // input is spread by the stride and surrounded by kernel - 1 - pad zeros.
  ConvSpec t;
  t.transposed = true;
  t.inChannels = 2;
  t.outChannels = 3;
  t.inSpatial = {3};
  t.kernel = {3};
  t.strides = {2};
  t.dilations = {1};
  t.padBegin = t.padEnd = {0};
  t.outSpatial = {7};
  c = convProduct(t, DType::Float32, DType::Float32, DType::Float32);
  CHECK(c.problem.m == 3);
  CHECK(c.problem.k == 6);
  CHECK(c.problem.n == 7);
  CHECK(c.weightRow[1] == 3);
  CHECK(c.weightCol[0] == 2);          // c' 0, k 0 reads W[0][m][2]
  CHECK(c.weightCol[4] == 3 * 3 + 1);  // c' 1, k 1 reads W[1][m][1]
  CHECK(c.input.length == std::vector<int64_t>{9});
  CHECK(c.input.sourceOf(2) == 0);
  CHECK(c.input.sourceOf(3) == kNoConvSource);
  CHECK(c.input.sourceOf(4) == 1);
  CHECK(c.input.sourceOf(6) == 2);
  CHECK(c.input.sourceOf(8) == kNoConvSource);
}

TEST_CASE("pooling windows: padding, ceil mode's short windows, divisors and MaxPool's indices") {
  PoolSpec p;
  p.inSpatial = {4, 4};
  p.kernel = {3, 3};
  p.strides = {2, 2};
  p.dilations = {1, 1};
  p.padBegin = {1, 1};
  p.padEnd = {0, 0};
  p.outSpatial = {2, 2};
  CHECK(p.windowSize() == 9);
  CHECK(p.windowSource(0, 0) == kNoConvSource);  // (-1, -1)
  CHECK(p.windowSource(0, 4) == 0);              // (0, 0)
  CHECK(p.windowSource(3, 8) == 15);             // output (1,1), window (2,2): (3, 3)
  CHECK(p.windowCount(0, false) == 4);
  CHECK(p.windowCount(0, true) == 9);
  CHECK(p.indexBase(3, 0) == 1 * 4 + 1);  // window origin (1, 1)
  CHECK(p.indexOffset(5, 0) == 4 + 2);
  CHECK(p.indexOffset(5, 1) == 1 + 2 * 4);  // column-major
  // ceil mode: 4 inputs, kernel 3, stride 2, no padding: the second window holds 2 inputs.
  p.padBegin = {0, 0};
  CHECK(p.windowSource(1, 2) == kNoConvSource);
  CHECK(p.windowCount(1, false) == 3 * 2);
  CHECK(p.windowCount(1, true) == 3 * 2);
}

TEST_CASE("the planner's choice for ResNet-50's first convolution, and the engine agrees within 10%") {
  const Target target = targetPreset("ipu21");
  const ConvProduct c = convProduct(resnetFirstConv(), DType::Float16, DType::Float32, DType::Float16);
  // The problem as the Conv lowering poses it: resident weights (their share of the model's
  // initializers is almost all of it), a constant bias, and the prepared input spread
  // linearly, each element read by about 12 im2col positions.
  MatMulProblem problem = c.problem;
  problem.lhsConstant = true;
  problem.hasBias = true;
  problem.biasConstant = true;
  problem.biasElements = 64;
  uint64_t mostPrepared = 0;
  for (const TileSpan& span : linearMapping(3 * 52900, DType::Float16, target)) mostPrepared = std::max(mostPrepared, span.count);
  problem.rhsSourceElementsPerTile = mostPrepared * c.im2colReplication;
  MatMulOptions options;
  options.residentConstantBytesPerTile =
      static_cast<uint64_t>(18816.0 / (18816.0 + 128.0) * 0.25 * static_cast<double>(target.bytesPerTile));
  const MatMulPlan plan = planMatMul(problem, target, options);
  INFO(plan.describe());
  CHECK(plan.tiles() > 1000);
  CHECK(plan.bytesPerTile <= static_cast<uint64_t>(0.6 * target.bytesPerTile));
  CHECK(plan.groupParts == 1);

  // The same convolution compiled and run: its operand exchange, products, partials exchange
  // and reduction against the plan's estimate (the preparation and tidy steps are apart).
  Model m;
  m.input("X", kFloat16, {1, 3, 224, 224});
  m.output("Y", kFloat16, {1, 64, 112, 112});
  std::vector<uint16_t> w(64 * 3 * 7 * 7), bias(64);
  for (size_t i = 0; i < w.size(); ++i) w[i] = floatToHalf(values(w.size(), 1)[i] * 0.1f);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = floatToHalf(0.01f * static_cast<float>(i));
  m.initializer("W", kFloat16, {64, 3, 7, 7}, w);
  m.initializer("B", kFloat16, {64}, bias);
  m.node("Conv", {"X", "W", "B"}, {"Y"}).ints("kernel_shape", {7, 7}).ints("strides", {2, 2}).ints("pads", {3, 3, 3, 3});
  const Executable exe = m.compile("conv_resnet_first.onnx");
  Engine engine(1);
  engine.load(std::make_shared<const Executable>(exe));
  Steps log;
  engine.setObserver(&log);
  HostBuffers in{{"X", std::vector<uint8_t>(3 * 224 * 224 * 2, 0)}}, out;
  engine.run(in, out);
  uint64_t measured = 0;
  for (const auto& [name, cycles] : log.steps) {
    for (const std::string phase : {"/operands", "/product", "/reduce"}) {
      if (name.size() >= phase.size() && name.compare(name.size() - phase.size(), phase.size(), phase) == 0) {
        measured += cycles;
      }
    }
  }
  INFO("measured " << measured << ", estimated " << plan.cost.total());
  CHECK(measured > 0);
  CHECK(std::fabs(static_cast<double>(measured) - static_cast<double>(plan.cost.total())) <=
        0.10 * static_cast<double>(plan.cost.total()));
}

TEST_CASE("compiled Conv with strides, asymmetric pads, dilations and groups matches the definition") {
  ConvSpec s;
  s.batch = 2;
  s.inChannels = 4;
  s.outChannels = 6;
  s.groups = 2;
  s.inSpatial = {9, 11};
  s.kernel = {3, 2};
  s.strides = {2, 3};
  s.dilations = {2, 1};
  s.padBegin = {1, 2};
  s.padEnd = {2, 0};
  s.outSpatial = {(9 + 3 - 5) / 2 + 1, (11 + 2 - 2) / 3 + 1};
  const std::vector<float> x = values(2 * 4 * 9 * 11, 2), w = values(6 * 2 * 3 * 2, 3), b = values(6, 4);
  Model m;
  m.input("X", kFloat, {2, 4, 9, 11});
  m.input("W", kFloat, {6, 2, 3, 2});
  m.initializer("B", kFloat, {6}, b);
  m.output("Y", kFloat, {2, 6, s.outSpatial[0], s.outSpatial[1]});
  m.node("Conv", {"X", "W", "B"}, {"Y"})
      .ints("strides", {2, 3})
      .ints("dilations", {2, 1})
      .ints("pads", {1, 2, 2, 0})
      .integer("group", 2);
  const HostBuffers out = run(m.compile("conv_groups.onnx"), {{"X", bytesOf(x)}, {"W", bytesOf(w)}});
  checkClose(valuesOf<float>(out.at("Y")), referenceConv(x, w, b, s), 1e-5f);
}

TEST_CASE("a depthwise fp16 convolution with SAME_UPPER padding matches the definition within fp16 rounding") {
  ConvSpec s;
  s.batch = 1;
  s.inChannels = s.outChannels = s.groups = 8;
  s.inSpatial = {10, 10};
  s.kernel = {3, 3};
  s.strides = {2, 2};
  s.dilations = {1, 1};
  s.padBegin = {0, 0};
  s.padEnd = {1, 1};  // SAME_UPPER: total 1, at the end
  s.outSpatial = {5, 5};
  std::vector<float> x = values(8 * 100, 5), w = values(8 * 9, 6);
  for (float& v : x) v = halfToFloat(floatToHalf(v));
  for (float& v : w) v = halfToFloat(floatToHalf(v));
  std::vector<uint16_t> xh, wh;
  for (float v : x) xh.push_back(floatToHalf(v));
  for (float v : w) wh.push_back(floatToHalf(v));
  Model m;
  m.input("X", kFloat16, {1, 8, 10, 10});
  m.initializer("W", kFloat16, {8, 1, 3, 3}, wh);
  m.output("Y", kFloat16, {1, 8, 5, 5});
  m.node("Conv", {"X", "W"}, {"Y"}).ints("strides", {2, 2}).text("auto_pad", "SAME_UPPER").integer("group", 8);
  const HostBuffers out = run(m.compile("conv_depthwise.onnx"), {{"X", bytesOf(xh)}});
  std::vector<float> got;
  for (uint16_t h : valuesOf<uint16_t>(out.at("Y"))) got.push_back(halfToFloat(h));
  checkClose(got, referenceConv(x, w, {}, s), 2e-3f);
}

TEST_CASE("MaxPool with Indices and AveragePool without pads in the count, on known values") {
  // X = 0..15 as a 4x4 image; 3x3 windows, stride 2, pads 1 at the start.
  Model m;
  m.input("X", kFloat, {1, 1, 4, 4});
  m.output("Y", kFloat, {1, 1, 2, 2});
  m.output("I", kInt64, {1, 1, 2, 2});
  m.node("MaxPool", {"X"}, {"Y", "I"}).ints("kernel_shape", {3, 3}).ints("strides", {2, 2}).ints("pads", {1, 1, 0, 0});
  HostBuffers out = run(m.compile("maxpool_indices.onnx"), {{"X", bytesOf(iota(16))}});
  CHECK(valuesOf<float>(out.at("Y")) == std::vector<float>{5, 7, 13, 15});
  CHECK(valuesOf<int64_t>(out.at("I")) == std::vector<int64_t>{5, 7, 13, 15});

  Model a;
  a.input("X", kFloat, {1, 1, 4, 4});
  a.output("Y", kFloat, {1, 1, 2, 2});
  a.node("AveragePool", {"X"}, {"Y"}).ints("kernel_shape", {3, 3}).ints("strides", {2, 2}).ints("pads", {1, 1, 0, 0});
  out = run(a.compile("avgpool.onnx"), {{"X", bytesOf(iota(16))}});
  // Window of output (0,0): inputs (0..1) x (0..1) = 0, 1, 4, 5 -> 2.5; (0,1): rows 0-1,
  // cols 1-3 -> (1+2+3+5+6+7)/6 = 4.
  // (1,0): rows 1-3, cols 0-1 -> 51/6 = 8.5; (1,1): rows 1-3, cols 1-3 -> 90/9 = 10.
  CHECK(valuesOf<float>(out.at("Y")) == std::vector<float>{2.5f, 4.0f, 8.5f, 10.0f});
}

TEST_CASE("an LSTM runs as a Repeat over its steps with its weights resident") {
  Model m;
  m.input("X", kFloat, {5, 2, 3});
  m.initializer("W", kFloat, {1, 16, 3}, values(48, 7));
  m.initializer("R", kFloat, {1, 16, 4}, values(64, 8));
  m.output("Y", kFloat, {5, 1, 2, 4});
  m.node("LSTM", {"X", "W", "R"}, {"Y"}).integer("hidden_size", 4);
  const Executable exe = m.compile("lstm_repeat.onnx");
  const Program* repeat = nullptr;
  std::function<void(const Program&)> find = [&](const Program& p) {
    if (p.kind == ProgramKind::Repeat) repeat = &p;
    for (const Program& child : p.body) find(child);
  };
  find(exe.main);
  REQUIRE(repeat != nullptr);
  CHECK(repeat->count == 5);
  bool rResident = false;
  for (const Variable& v : exe.variables) {
    rResident = rResident || (v.kind == VariableKind::Constant && v.name.find("r_blocks") != std::string::npos);
  }
  CHECK(rResident);
}

TEST_CASE("a convolution that cannot fit the tile memory names the op, its tensors and the bytes short") {
  // 256 MiB of input: its prepared copy and im2col blocks cannot fit with it.
  Model m;
  m.input("X", kFloat, {1, 64, 1024, 1024});
  m.initializer("W", kFloat, {64, 64, 3, 3}, values(64 * 64 * 9, 9));
  m.output("Y", kFloat, {1, 64, 1024, 1024});
  m.node("Conv", {"X", "W"}, {"Y"}).ints("pads", {1, 1, 1, 1});
  try {
    m.compile("conv_too_big.onnx");
    FAIL("the compile should have failed");
  } catch (const CompileError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("Conv_node") != std::string::npos);
    CHECK(message.find("short") != std::string::npos);
    CHECK(message.find("tile") != std::string::npos);
    CHECK((message.find("'X'") != std::string::npos || message.find("Conv_node/") != std::string::npos));
  }
}
