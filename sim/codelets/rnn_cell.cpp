#include "sim/codelets/rnn_cell.h"

#include <array>
#include <utility>

namespace ipusim::codelets::rnn {

namespace {

struct ActivationEntry {
  std::string_view name;
  Activation activation;
  ActivationParameters parameters;
};

// onnxruntime's defaults for parameters the lists do not give (deep_cpu_gru/rnn helpers).
constexpr std::array<ActivationEntry, 11> kActivations{{
    {"Relu", Activation::Relu, {}},
    {"Tanh", Activation::Tanh, {}},
    {"Sigmoid", Activation::Sigmoid, {}},
    {"Affine", Activation::Affine, {true, true, 1.0, 0.0}},
    {"LeakyRelu", Activation::LeakyRelu, {true, false, 0.01, 0.0}},
    {"ThresholdedRelu", Activation::ThresholdedRelu, {true, false, 1.0, 0.0}},
    {"ScaledTanh", Activation::ScaledTanh, {true, true, 1.0, 1.0}},
    {"HardSigmoid", Activation::HardSigmoid, {true, true, 0.2, 0.5}},
    {"Elu", Activation::Elu, {true, false, 1.0, 0.0}},
    {"Softsign", Activation::Softsign, {}},
    {"Softplus", Activation::Softplus, {}},
}};

// Per-element worker cycles of each step of a cell, beyond the dot products (assumptions
// from the elementwise table, docs/cost-model.md section 7, per element at fp32 rates):
// a sigmoid or tanh 6, an add or multiply 1, loads and stores 1 each.
constexpr uint64_t kActivationCycles = 6;
constexpr uint64_t kArithmeticCycles = 1;
// Per unit and batch element of each phase: activations, then arithmetic (bias adds, gate
// products, state update, stores).
struct PhaseCost {
  Cell cell;
  Phase phase;
  uint64_t gatesDotted;   // recurrent dot products per unit
  uint64_t activations;
  uint64_t arithmetic;
};
constexpr std::array<PhaseCost, 5> kPhaseCosts{{
    {Cell::Rnn, Phase::Step, 1, 1, 4},            // 2 bias adds, x add, store h and y
    {Cell::Gru, Phase::Step, 3, 3, 14},           // 6 bias adds, 3 x adds, r*, update (3), stores
    {Cell::Gru, Phase::GruGates, 2, 2, 8},        // 4 bias adds, 2 x adds, r*h, store z, rh
    {Cell::Gru, Phase::GruCandidate, 1, 1, 7},    // 2 bias adds, x add, update (3), store
    {Cell::Lstm, Phase::Step, 4, 5, 20},          // 8 bias adds, 4 x adds, 3 peepholes, c and h update, stores
}};
// Per batch element and unit: the dot product's loop setup and reduction of the lanes.
constexpr uint64_t kDotOverheadCycles = 4;
// The init phase zeroes Y and the states with 64-bit stores: one cycle per 8 bytes,
// approximated per element.
constexpr uint64_t kInitCyclesPerElement = 1;

}  // namespace

std::optional<Activation> activationNamed(std::string_view name) {
  for (const ActivationEntry& e : kActivations)
    if (e.name == name) return e.activation;
  return std::nullopt;
}

ActivationParameters activationParameters(Activation activation) {
  for (const ActivationEntry& e : kActivations)
    if (e.activation == activation) return e.parameters;
  return {};
}

std::string codeletName(DType dtype) { return "RecurrentStep<" + std::string(dtypeName(dtype)) + ">"; }

uint64_t stepWorkerCycles(Cell cell, Phase phase, uint64_t seq, uint64_t batch, uint64_t hidden, uint64_t units,
                          uint64_t lanes) {
  if (phase == Phase::Init) return kVertexCycles + (seq + 2) * batch * units * kInitCyclesPerElement;
  for (const PhaseCost& p : kPhaseCosts) {
    if (p.cell != cell || p.phase != phase) continue;
    // A dot product of `hidden` elements: one vector multiply-accumulate (with its 64-bit
    // load) per cycle, as poplibs' vector dot-product loops.
    const uint64_t dot = kDotOverheadCycles + (hidden + lanes - 1) / lanes;
    const uint64_t perUnit = p.gatesDotted * dot + p.activations * kActivationCycles + p.arithmetic * kArithmeticCycles;
    return kVertexCycles + batch * units * perUnit;
  }
  return kVertexCycles;
}

}  // namespace ipusim::codelets::rnn
