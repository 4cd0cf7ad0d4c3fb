// The recurrent cell's vertex contract (RecurrentStep<T>, rnn_codelets.cpp), shared by the
// codelet and the compiler's RNN/GRU/LSTM lowering: the cells, the phases of a step, the
// activations, the scalar layout and the cycle model (docs/cost-model.md section 11).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/dtype.h"

namespace ipusim::codelets::rnn {

enum class Cell : int64_t { Rnn = 0, Gru = 1, Lstm = 2 };

// Init zeroes Y, the counter and the states without an initial value. A step is Step, or for
// a GRU without linear_before_reset GruGates (z, and r * h for the exchange) then
// GruCandidate (the candidate from r * h, the new state, the counter).
enum class Phase : int64_t { Init = 0, Step = 1, GruGates = 2, GruCandidate = 3 };

enum class Activation : int64_t {
  Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus
};

// ONNX's activation names; nullopt for an unknown one.
std::optional<Activation> activationNamed(std::string_view name);
// How many of activation_alpha / activation_beta an activation takes, and their defaults
// (onnxruntime's) when the lists run out.
struct ActivationParameters {
  bool usesAlpha = false, usesBeta = false;
  double alpha = 0, beta = 0;
};
ActivationParameters activationParameters(Activation activation);

enum class Scalar : size_t {
  Cell, Phase, Seq, Batch, Hidden, Units, Reverse, Clip, LinearBeforeReset, InputForget, HasInitialH,
  HasInitialC, Activation0, Activation1, Activation2, Alpha0, Beta0, Alpha1, Beta1, Alpha2, Beta2, Count
};

constexpr size_t gateCount(Cell cell) { return cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4; }

std::string codeletName(DType dtype);  // "RecurrentStep<float32>"

// Cycle model (assumptions, docs/cost-model.md section 11).
inline constexpr uint64_t kVertexCycles = 50;
// Worker cycles of one vertex of `units` hidden units for one phase of a step; `lanes` is
// the Target's vector width for the element type.
uint64_t stepWorkerCycles(Cell cell, Phase phase, uint64_t seq, uint64_t batch, uint64_t hidden, uint64_t units,
                          uint64_t lanes);

}  // namespace ipusim::codelets::rnn
