// The registration functions of the codelet tables. CodeletRegistry::instance() calls each
// explicitly: static initialisers in a static library would be dropped by the linker.
#pragma once
#include <cstdint>

namespace ipusim {
class CodeletRegistry;
}

namespace ipusim::codelets {

// Add, Sub, Mul, Div, Neg, Relu (elementwise_codelets.cpp).
void registerElementwiseCodelets(CodeletRegistry& registry);
// Cast<from,to> for every pair of dtypes (cast_codelets.cpp).
void registerCastCodelets(CodeletRegistry& registry);
// Reductions, ArgMax/ArgMin, indexed elementwise (softmax, normalisations, LRN, einsum
// views), CumSum and TopK (reduction_family_codelets.cpp).
void registerReductionFamilyCodelets(CodeletRegistry& registry);
// AmpMatMul, integer MatMul and MatMulInteger, ReducePartials (matmul_codelets.cpp).
void registerMatMulCodelets(CodeletRegistry& registry);
// Fill and the run-time-parameter layout ops: Slice, Pad, Trilu, ReverseSequence, Range, Resize (layout_codelets.cpp).
void registerLayoutCodelets(CodeletRegistry& registry);
// Gather, GatherElements, GatherND, OneHot, ScatterElements, ScatterND with run-time indices (gather_codelets.cpp).
void registerGatherCodelets(CodeletRegistry& registry);
// Abs, Sign, Erf, rounding, Sqrt, Exp, Log, Reciprocal, trigonometry, Sigmoid, Tanh, IsNaN,
// IsInf, Not (math_codelets.cpp).
void registerMathCodelets(CodeletRegistry& registry);
// Pow, Mod, Fmod, shifts, Max, Min, Sum, Mean, Clip (binary_math_codelets.cpp).
void registerBinaryMathCodelets(CodeletRegistry& registry);
// Comparisons, And, Or, Xor, Where (logic_codelets.cpp).
void registerLogicCodelets(CodeletRegistry& registry);
// Parameterised activations and PRelu (activation_codelets.cpp).
void registerActivationCodelets(CodeletRegistry& registry);
// MaxPool, MaxPoolIndices, AveragePool, LpPool over gathered windows (pool_codelets.cpp).
void registerPoolCodelets(CodeletRegistry& registry);
// RecurrentStep: RNN, GRU and LSTM cells over blocks of hidden units (rnn_codelets.cpp).
void registerRecurrentCodelets(CodeletRegistry& registry);
// Transpose2d: on-tile matrix transposes (transpose_codelets.cpp).
void registerTransposeCodelets(CodeletRegistry& registry);

// Bytes of machine code an elementwise or cast codelet occupies on a tile (assumption,
// docs/cost-model.md).
constexpr uint32_t kElementwiseCodeBytes = 256;

}  // namespace ipusim::codelets
