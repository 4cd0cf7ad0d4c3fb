// Recurrent cell codelets (RNN, GRU, LSTM): one vertex owns a block of hidden units of one
// direction and keeps their state, weights and x-projections on its tile across a Repeat
// over time steps (docs/cost-model.md section 11). Each step, every vertex reads the whole
// previous hidden state (brought to its tile by an exchange), computes its units' gates
// (recurrent dot products, biases, peepholes, clip, activations) and updates its state and
// its slice of Y. A step counter on the tile picks the time index, so the loop body is the
// same every iteration.
//
// RecurrentStep<T>, T float32 or float16; fields (one region each; "-" = may be empty):
//   0 xw     [seq][batch][G][U]  x-projections X W^T of the block's units, all steps
//   1 hFull  [batch][H]          previous hidden state of the direction (GRU candidate
//                                phase: r * h, also [batch][H])
//   2 r      [G][U][H]           recurrent weights of the block's units
//   3 bias-  [2][G][U]           Wb then Rb
//   4 h      [batch][U]          hidden state of the block (in/out)
//   5 c-     [batch][U]          LSTM cell state (in/out)
//   6 peep-  [3][U]              LSTM peepholes i, o, f
//   7 y      [seq][batch][U]     the block's Y (zeroed by the init phase)
//   8 counter [1] int32          steps done
//   9 lens-  [batch] int32       sequence_lens
//  10 z-     [batch][U]          GRU (linear_before_reset 0): update gate between phases
//  11 rh-    [batch][U]          GRU (linear_before_reset 0): r * h of the block's units
// scalars: see the Scalar enum. G is 1 (RNN), 3 (GRU: z, r, h) or 4 (LSTM: i, o, f, c).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/rnn_cell.h"
#include "sim/codelets/vector_cost.h"
#include "sim/codelets/vertex_checks.h"
#include "sim/error.h"

namespace ipusim::codelets {
namespace {

using rnn::Activation;
using rnn::Cell;
using rnn::Phase;
using rnn::Scalar;

constexpr uint32_t kRnnCodeBytes = 1024;  // assumption: a C++ vertex with the three cells

double real(std::span<const int64_t> scalars, Scalar s) { return scalarAsDouble(scalars[static_cast<size_t>(s)]); }
int64_t integer(std::span<const int64_t> scalars, Scalar s) { return scalars[static_cast<size_t>(s)]; }

float activate(Activation a, float x, float alpha, float beta) {
  switch (a) {
    case Activation::Relu: return std::max(x, 0.0f);
    case Activation::Tanh: return std::tanh(x);
    case Activation::Sigmoid: return x >= 0 ? 1.0f / (1.0f + std::exp(-x)) : std::exp(x) / (1.0f + std::exp(x));
    case Activation::Affine: return alpha * x + beta;
    case Activation::LeakyRelu: return x >= 0 ? x : alpha * x;
    case Activation::ThresholdedRelu: return x > alpha ? x : 0.0f;
    case Activation::ScaledTanh: return alpha * std::tanh(beta * x);
    case Activation::HardSigmoid: return std::clamp(alpha * x + beta, 0.0f, 1.0f);
    case Activation::Elu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0f);
    case Activation::Softsign: return x / (1.0f + std::fabs(x));
    case Activation::Softplus: return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
  return x;
}

// A field as float values (read) or a place to store them (write), in the element type.
template <DType D>
struct Field {
  std::span<uint8_t> bytes;
  size_t size() const { return bytes.size() / Element<D>::bytes; }
  float get(size_t i) const { return static_cast<float>(Element<D>::load(bytes.data() + i * Element<D>::bytes)); }
  void set(size_t i, float v) const { Element<D>::store(bytes.data() + i * Element<D>::bytes, v); }
};

std::span<uint8_t> regionOf(const VertexData& data, size_t field, size_t bytes, bool optional,
                            std::string_view codelet) {
  if (field >= data.fields.size()) fail(codelet, "needs 12 fields");
  const auto& regions = data.fields[field];
  if (regions.empty() && optional) return {};
  if (regions.size() != 1 || regions[0].size() != bytes) {
    fail(codelet, "field " + std::to_string(field) + " must be one region of " + std::to_string(bytes) + " bytes");
  }
  return regions[0];
}

template <DType D>
void recurrentKernel(const VertexData& data, std::string_view codelet) {
  const auto& s = data.scalars;
  if (s.size() != static_cast<size_t>(Scalar::Count)) fail(codelet, "wrong number of scalars");
  const auto cell = static_cast<Cell>(integer(s, Scalar::Cell));
  const auto phase = static_cast<Phase>(integer(s, Scalar::Phase));
  const int64_t seq = integer(s, Scalar::Seq), batch = integer(s, Scalar::Batch),
                hidden = integer(s, Scalar::Hidden), units = integer(s, Scalar::Units);
  if (seq <= 0 || batch <= 0 || hidden <= 0 || units <= 0 || units > hidden) fail(codelet, "bad sizes");
  const size_t G = rnn::gateCount(cell), B = static_cast<size_t>(batch), H = static_cast<size_t>(hidden),
               U = static_cast<size_t>(units), T = static_cast<size_t>(seq);
  constexpr size_t e = Element<D>::bytes;
  if (data.fields.size() != 12) fail(codelet, "needs 12 fields");
  const Field<D> xw{regionOf(data, 0, T * B * G * U * e, false, codelet)};
  const Field<D> hFull{regionOf(data, 1, B * H * e, false, codelet)};
  const Field<D> r{regionOf(data, 2, G * U * H * e, false, codelet)};
  const Field<D> bias{regionOf(data, 3, 2 * G * U * e, true, codelet)};
  const Field<D> h{regionOf(data, 4, B * U * e, false, codelet)};
  const Field<D> c{regionOf(data, 5, B * U * e, true, codelet)};
  const Field<D> peep{regionOf(data, 6, 3 * U * e, true, codelet)};
  const Field<D> y{regionOf(data, 7, T * B * U * e, false, codelet)};
  const std::span<uint8_t> counterBytes = regionOf(data, 8, 4, false, codelet);
  const std::span<uint8_t> lens = regionOf(data, 9, B * 4, true, codelet);
  const Field<D> z{regionOf(data, 10, B * U * e, true, codelet)};
  const Field<D> rh{regionOf(data, 11, B * U * e, true, codelet)};
  if (cell == Cell::Lstm && c.size() == 0) fail(codelet, "an LSTM needs its cell state");
  const bool linearBeforeReset = integer(s, Scalar::LinearBeforeReset) != 0;
  if (cell == Cell::Gru && phase == Phase::Step && !linearBeforeReset) {
    fail(codelet, "a GRU without linear_before_reset takes the GruGates and GruCandidate phases");
  }
  if (cell == Cell::Gru && (phase == Phase::GruGates || phase == Phase::GruCandidate) &&
      (z.size() == 0 || rh.size() == 0)) {
    fail(codelet, "the GRU phases need the z and rh fields");
  }

  int32_t counter;
  std::memcpy(&counter, counterBytes.data(), 4);
  if (phase == Phase::Init) {
    std::fill(y.bytes.begin(), y.bytes.end(), uint8_t{0});
    if (integer(s, Scalar::HasInitialH) == 0) std::fill(h.bytes.begin(), h.bytes.end(), uint8_t{0});
    if (integer(s, Scalar::HasInitialC) == 0) std::fill(c.bytes.begin(), c.bytes.end(), uint8_t{0});
    counter = 0;
    std::memcpy(counterBytes.data(), &counter, 4);
    return;
  }
  const bool reverse = integer(s, Scalar::Reverse) != 0;
  const float clip = static_cast<float>(real(s, Scalar::Clip));
  const bool inputForget = integer(s, Scalar::InputForget) != 0;
  std::array<Activation, 3> act{};
  std::array<float, 3> alpha{}, beta{};
  for (size_t i = 0; i < 3; ++i) {
    act[i] = static_cast<Activation>(s[static_cast<size_t>(Scalar::Activation0) + i]);
    alpha[i] = static_cast<float>(scalarAsDouble(s[static_cast<size_t>(Scalar::Alpha0) + 2 * i]));
    beta[i] = static_cast<float>(scalarAsDouble(s[static_cast<size_t>(Scalar::Alpha0) + 2 * i + 1]));
  }
  auto f = [&](size_t which, float x) {
    if (clip > 0) x = std::clamp(x, -clip, clip);
    return activate(act[which], x, alpha[which], beta[which]);
  };
  auto dot = [&](size_t b, size_t gate, size_t u) {
    float sum = 0;
    const size_t row = (gate * U + u) * H;
    for (size_t k = 0; k < H; ++k) sum += hFull.get(b * H + k) * r.get(row + k);
    return sum;
  };
  auto biasOf = [&](size_t which, size_t gate, size_t u) {
    return bias.size() ? bias.get((which * G + gate) * U + u) : 0.0f;
  };

  for (size_t b = 0; b < B; ++b) {
    int64_t length = seq;
    if (!lens.empty()) {
      int32_t l;
      std::memcpy(&l, lens.data() + 4 * b, 4);
      length = std::clamp<int64_t>(l, 0, seq);
    }
    if (counter >= length) continue;  // this sequence has ended: its state stays
    const size_t t = static_cast<size_t>(reverse ? length - 1 - counter : counter);
    for (size_t u = 0; u < U; ++u) {
      auto pre = [&](size_t gate) {  // x W^T + Wb + Rb, without the recurrent product
        return xw.get(((t * B + b) * G + gate) * U + u) + biasOf(0, gate, u) + biasOf(1, gate, u);
      };
      const float hPrev = h.get(b * U + u);
      float hNew = 0;
      switch (cell) {
        case Cell::Rnn: hNew = f(0, pre(0) + dot(b, 0, u)); break;
        case Cell::Gru: {
          if (phase == Phase::GruCandidate) {
            // hFull holds r * h here: the candidate from the reset hidden state.
            const float hh = f(1, xw.get(((t * B + b) * G + 2) * U + u) + dot(b, 2, u) + biasOf(1, 2, u) +
                                      biasOf(0, 2, u));
            const float zt = z.get(b * U + u);
            hNew = (1 - zt) * hh + zt * hPrev;
            break;
          }
          const float zt = f(0, pre(0) + dot(b, 0, u));
          const float rt = f(0, pre(1) + dot(b, 1, u));
          if (phase == Phase::GruGates) {
            z.set(b * U + u, zt);
            rh.set(b * U + u, rt * hPrev);
            continue;
          }
          // linear_before_reset: the reset gate scales the recurrent product and its bias.
          const float hh = f(1, xw.get(((t * B + b) * G + 2) * U + u) + rt * (dot(b, 2, u) + biasOf(1, 2, u)) +
                                    biasOf(0, 2, u));
          hNew = (1 - zt) * hh + zt * hPrev;
          break;
        }
        case Cell::Lstm: {
          const float cPrev = c.get(b * U + u);
          const float pi = peep.size() ? peep.get(u) : 0.0f, po = peep.size() ? peep.get(U + u) : 0.0f,
                      pf = peep.size() ? peep.get(2 * U + u) : 0.0f;
          const float it = f(0, pre(0) + dot(b, 0, u) + pi * cPrev);
          const float ft = inputForget ? 1 - it : f(0, pre(2) + dot(b, 2, u) + pf * cPrev);
          const float ct = f(1, pre(3) + dot(b, 3, u));
          // The cell state is stored in the element type, and the output gate reads it so.
          c.set(b * U + u, ft * cPrev + it * ct);
          const float cNew = c.get(b * U + u);
          const float ot = f(0, pre(1) + dot(b, 1, u) + po * cNew);
          hNew = ot * activate(act[2], cNew, alpha[2], beta[2]);
          break;
        }
      }
      h.set(b * U + u, hNew);
      y.set((t * B + b) * U + u, hNew);
    }
  }
  if (phase != Phase::GruGates) {
    ++counter;
    std::memcpy(counterBytes.data(), &counter, 4);
  }
}

uint64_t recurrentCycles(const Vertex& vertex, const Target& target, DType dtype) {
  if (vertex.scalars.size() != static_cast<size_t>(Scalar::Count)) return rnn::kVertexCycles;
  const auto& s = vertex.scalars;
  const auto cell = static_cast<Cell>(s[static_cast<size_t>(Scalar::Cell)]);
  const auto phase = static_cast<Phase>(s[static_cast<size_t>(Scalar::Phase)]);
  const uint64_t lanes = std::max<uint32_t>(1, laneCount(lanesOf(dtype), target));
  return rnn::stepWorkerCycles(cell, phase, static_cast<uint64_t>(s[static_cast<size_t>(Scalar::Seq)]),
                               static_cast<uint64_t>(s[static_cast<size_t>(Scalar::Batch)]),
                               static_cast<uint64_t>(s[static_cast<size_t>(Scalar::Hidden)]),
                               static_cast<uint64_t>(s[static_cast<size_t>(Scalar::Units)]), lanes);
}

template <DType D>
void addRecurrent(CodeletRegistry& registry) {
  Codelet c;
  c.name = rnn::codeletName(D);
  c.kernel = [name = c.name](const VertexData& data) { recurrentKernel<D>(data, name); };
  c.cycles = [](const Vertex& v, const Target& t) { return recurrentCycles(v, t, D); };
  c.codeBytes = kRnnCodeBytes;
  registry.add(std::move(c));
}

}  // namespace

void registerRecurrentCodelets(CodeletRegistry& registry) {
  addRecurrent<DType::Float32>(registry);
  addRecurrent<DType::Float16>(registry);
}

}  // namespace ipusim::codelets
