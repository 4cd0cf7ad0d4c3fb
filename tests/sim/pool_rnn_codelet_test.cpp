// The pooling and recurrent-cell codelets on known values, and their cycle models against
// hand-worked figures (docs/cost-model.md section 11); the strided form of ReducePartials.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/rnn_cell.h"
#include "sim/target.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;
namespace rnn = ipusim::codelets::rnn;

namespace {

// Runs `codelet`'s kernel over host buffers (one region per field; empty buffers are empty
// fields) and returns its cycle estimate on ipu2 for the same fields.
uint64_t runKernel(const std::string& codelet, std::vector<std::vector<uint8_t>*> fields, std::vector<int64_t> scalars) {
  const Codelet* c = CodeletRegistry::instance().find(codelet);
  REQUIRE_MESSAGE(c != nullptr, codelet);
  VertexData data;
  Vertex vertex;
  for (std::vector<uint8_t>* field : fields) {
    data.fields.emplace_back();
    vertex.fields.emplace_back();
    if (!field->empty()) {
      data.fields.back().push_back(std::span<uint8_t>(field->data(), field->size()));
      vertex.fields.back().push_back({0, static_cast<uint32_t>(field->size())});
    }
  }
  data.scalars = scalars;
  vertex.scalars = scalars;
  c->kernel(data);
  return c->cycles(vertex, targetPreset("ipu2"));
}

std::vector<uint8_t> floats(const std::vector<float>& v) { return toBytes(v); }

}  // namespace

TEST_CASE("MaxPool, AveragePool and LpPool reduce their windows") {
  // Two outputs of 4-element windows.
  std::vector<uint8_t> windows = floats({1, 7, -2, 3, -5, -1, -8, -6});
  std::vector<uint8_t> out(8);
  uint64_t cycles = runKernel("MaxPool<float32>", {&windows, &out}, {4});
  CHECK(fromBytes<float>(out) == std::vector<float>{7, -1});
  // 10 + per output (6 + ceil(4 / 2 lanes) x 1) = 10 + 2 x 8.
  CHECK(cycles == 26);

  std::vector<uint8_t> divisors = floats({4, 2});
  cycles = runKernel("AveragePool<float32>", {&windows, &out, &divisors}, {4, scalarFromDouble(4)});
  CHECK(fromBytes<float>(out) == std::vector<float>{9.0f / 4, -20.0f / 2});
  CHECK(cycles == 10 + 2 * (7 + 2));
  std::vector<uint8_t> none;
  runKernel("AveragePool<float32>", {&windows, &out, &none}, {4, scalarFromDouble(4)});
  CHECK(fromBytes<float>(out) == std::vector<float>{9.0f / 4, -5.0f});

  runKernel("LpPool<float32>", {&windows, &out}, {4, scalarFromDouble(2)});
  const std::vector<float> l2 = fromBytes<float>(out);
  CHECK(l2[0] == doctest::Approx(std::sqrt(1.0 + 49 + 4 + 9)));
  CHECK(l2[1] == doctest::Approx(std::sqrt(25.0 + 1 + 64 + 36)));
  runKernel("LpPool<float32>", {&windows, &out}, {4, scalarFromDouble(3)});
  CHECK(fromBytes<float>(out)[0] == doctest::Approx(std::cbrt(1.0 + 343 + 8 + 27)));

  // float16 max: 4 lanes, so a window of 4 is one vector.
  std::vector<uint8_t> halves = halfBytes({0.5f, -1, 2, 1.5f}), outHalf(2);
  cycles = runKernel("MaxPool<float16>", {&halves, &outHalf}, {4});
  CHECK(halfValues(outHalf) == std::vector<float>{2});
  CHECK(cycles == 10 + 6 + 1);
  // uint8: one element at a time, 2 cycles each.
  std::vector<uint8_t> bytes{3, 9, 1, 4, 200, 2, 0, 7}, outBytes(2);
  cycles = runKernel("MaxPool<uint8>", {&bytes, &outBytes}, {4});
  CHECK(outBytes == std::vector<uint8_t>{9, 200});
  CHECK(cycles == 10 + 2 * (6 + 4 * 2));
}

TEST_CASE("MaxPoolIndices returns base + offset of the first maximum") {
  std::vector<uint8_t> windows = floats({1, 7, 7, 3, -5, -1, -8, -6});
  std::vector<uint8_t> out(8), indices(16);
  std::vector<uint8_t> base = toBytes(std::vector<int64_t>{100, 200});
  std::vector<uint8_t> offsets = toBytes(std::vector<int64_t>{0, 1, 10, 11});
  const uint64_t cycles = runKernel("MaxPoolIndices<float32>", {&windows, &out, &indices, &base, &offsets}, {4});
  CHECK(fromBytes<float>(out) == std::vector<float>{7, -1});
  CHECK(fromBytes<int64_t>(indices) == std::vector<int64_t>{101, 201});
  CHECK(cycles == 10 + 2 * (6 + 4 * 3));
}

TEST_CASE("a pooling vertex whose fields disagree is refused") {
  std::vector<uint8_t> windows = floats({1, 2, 3}), out(8);
  CHECK_THROWS(runKernel("MaxPool<float32>", {&windows, &out}, {2}));
}

TEST_CASE("RecurrentStep: an RNN cell's init and one step on known values") {
  // seq 2, batch 1, hidden 2, one block of both units; Tanh; x-projections and R chosen so
  // that h1 = tanh(xw + R h0 + Wb + Rb) is easy to check.
  const std::vector<int64_t> base{static_cast<int64_t>(rnn::Cell::Rnn), 0, 2, 1, 2, 2, 0, scalarFromDouble(0), 0, 0, 1,
                                  0, static_cast<int64_t>(rnn::Activation::Tanh), 0, 0, scalarFromDouble(0),
                                  scalarFromDouble(0), scalarFromDouble(0), scalarFromDouble(0), scalarFromDouble(0),
                                  scalarFromDouble(0)};
  std::vector<uint8_t> xw = floats({0.5f, -0.25f, 1, 2});  // [seq][batch][G=1][U=2]
  std::vector<uint8_t> hFull = floats({1, -1});           // h0 = [1, -1]
  std::vector<uint8_t> r = floats({0.5f, 0.25f, -1, 2});   // R rows of units 0 and 1
  std::vector<uint8_t> bias = floats({0.1f, 0.2f, 0.3f, 0.4f});
  std::vector<uint8_t> h = floats({1, -1}), none, y(16), counter(4, 0xFF), z, rh;
  std::vector<std::vector<uint8_t>*> fields{&xw, &hFull, &r, &bias, &h, &none, &none, &y, &counter, &none, &z, &rh};
  std::vector<int64_t> init = base;
  runKernel(rnn::codeletName(DType::Float32), fields, init);
  CHECK(fromBytes<float>(y) == std::vector<float>(4, 0.0f));
  CHECK(fromBytes<int32_t>(counter) == std::vector<int32_t>{0});
  CHECK(fromBytes<float>(h) == std::vector<float>{1, -1});  // the initial state stays

  std::vector<int64_t> step = base;
  step[static_cast<size_t>(rnn::Scalar::Phase)] = static_cast<int64_t>(rnn::Phase::Step);
  const uint64_t cycles = runKernel(rnn::codeletName(DType::Float32), fields, step);
  const float h0 = std::tanh(0.5f + (0.5f - 0.25f) + 0.1f + 0.3f);
  const float h1 = std::tanh(-0.25f + (-1.0f - 2.0f) + 0.2f + 0.4f);
  const std::vector<float> hNew = fromBytes<float>(h);
  CHECK(hNew[0] == doctest::Approx(h0));
  CHECK(hNew[1] == doctest::Approx(h1));
  CHECK(fromBytes<float>(y)[0] == doctest::Approx(h0));
  CHECK(fromBytes<int32_t>(counter) == std::vector<int32_t>{1});
  // 50 + batch 1 x units 2 x (1 dot of (4 + ceil(2 / 2)) + 1 activation x 6 + 4 arithmetic).
  CHECK(cycles == 50 + 2 * (5 + 6 + 4));
  // The second step reads xw at t = 1; a GRU phase on an RNN cell is refused.
  std::vector<int64_t> gru = step;
  gru[static_cast<size_t>(rnn::Scalar::Cell)] = static_cast<int64_t>(rnn::Cell::Gru);
  CHECK_THROWS(runKernel(rnn::codeletName(DType::Float32), fields, gru));
}

TEST_CASE("ReducePartials' strided form sums the own partial and received ones a stride apart") {
  // out = own + received[0] + received[1], 2 elements; the received partials sit 3 apart.
  std::vector<uint8_t> out(8);
  std::vector<uint8_t> own = floats({1, 2});
  std::vector<uint8_t> received = floats({10, 20, -1, 100, 200});
  const Codelet* c = CodeletRegistry::instance().find("ReducePartials<float32,float32>");
  REQUIRE(c != nullptr);
  VertexData data;
  data.fields = {{std::span<uint8_t>(out)}, {std::span<uint8_t>(own), std::span<uint8_t>(received)}, {}};
  const std::vector<int64_t> scalars{scalarFromDouble(1), scalarFromDouble(1), 3};
  data.scalars = scalars;
  c->kernel(data);
  CHECK(fromBytes<float>(out) == std::vector<float>{111, 222});
  Vertex vertex;
  vertex.fields = {{{0, 8}}, {{0, 8}, {0, 20}}, {}};
  vertex.scalars = scalars;
  // Three partials: 20 + ceil(2 / 4) x ((4 / 2) x 2 + 8), as the three-region form.
  Vertex regions;
  regions.fields = {{{0, 8}}, {{0, 8}, {0, 8}, {0, 8}}, {}};
  regions.scalars = {scalarFromDouble(1), scalarFromDouble(1)};
  const Target target = targetPreset("ipu2");
  CHECK(c->cycles(vertex, target) == c->cycles(regions, target));
  CHECK(c->cycles(vertex, target) == 20 + 1 * (2 * 2 + 8));
}
