// Unary math codelets: Abs, Ceil, Floor, Round, Sign, Sqrt, Exp, Log, Reciprocal, Erf, the
// trigonometric and hyperbolic functions, Sigmoid, Tanh, IsNaN, IsInf and Not. Floats are
// computed in float (float16 loads as float and rounds once on store), like numpy's float32
// loops and onnxruntime's float16 kernels. Cycle figures: docs/cost-model.md.
#include <cmath>
#include <type_traits>

#include "sim/codelets/mapped_codelets.h"

namespace ipusim::codelets {
namespace {

template <typename V>
using Unsigned = std::make_unsigned_t<V>;

// |x|; the most negative integer stays itself (wraps, as in numpy); unsigned is unchanged.
struct AbsOp {
  template <typename V>
  V operator()(V x) const {
    if constexpr (std::is_floating_point_v<V>) {
      return std::fabs(x);
    } else if constexpr (std::is_signed_v<V>) {
      return x < 0 ? static_cast<V>(static_cast<Unsigned<V>>(Unsigned<V>{0} - static_cast<Unsigned<V>>(x))) : x;
    } else {
      return x;
    }
  }
};

// -1, 0 or 1 (numpy.sign); NaN stays NaN.
struct SignOp {
  template <typename V>
  V operator()(V x) const {
    if constexpr (std::is_floating_point_v<V>) {
      if (std::isnan(x)) return x;
    }
    if (x > V{0}) return V{1};
    if constexpr (std::is_signed_v<V>) {
      if (x < V{0}) return V{-1};
    }
    return V{0};
  }
};

// erf; integers take erf of their value truncated back to the integer type (0 or +-1).
struct ErfOp {
  template <typename V>
  V operator()(V x) const {
    if constexpr (std::is_floating_point_v<V>) {
      return std::erf(x);
    } else {
      return static_cast<V>(std::erf(static_cast<double>(x)));
    }
  }
};

struct CeilOp { float operator()(float x) const { return std::ceil(x); } };
struct FloorOp { float operator()(float x) const { return std::floor(x); } };
// Halves round to even (numpy.round, ONNX Round): nearbyint in the default rounding mode.
struct RoundOp { float operator()(float x) const { return std::nearbyint(x); } };
struct SqrtOp { float operator()(float x) const { return std::sqrt(x); } };
struct ExpOp { float operator()(float x) const { return std::exp(x); } };
struct LogOp { float operator()(float x) const { return std::log(x); } };
struct ReciprocalOp { float operator()(float x) const { return 1.0f / x; } };
struct SinOp { float operator()(float x) const { return std::sin(x); } };
struct CosOp { float operator()(float x) const { return std::cos(x); } };
struct TanOp { float operator()(float x) const { return std::tan(x); } };
struct AsinOp { float operator()(float x) const { return std::asin(x); } };
struct AcosOp { float operator()(float x) const { return std::acos(x); } };
struct AtanOp { float operator()(float x) const { return std::atan(x); } };
struct SinhOp { float operator()(float x) const { return std::sinh(x); } };
struct CoshOp { float operator()(float x) const { return std::cosh(x); } };
struct TanhOp { float operator()(float x) const { return std::tanh(x); } };
struct AsinhOp { float operator()(float x) const { return std::asinh(x); } };
struct AcoshOp { float operator()(float x) const { return std::acosh(x); } };
struct AtanhOp { float operator()(float x) const { return std::atanh(x); } };

// 1 / (1 + e^-x), written so that neither branch overflows.
struct SigmoidOp {
  float operator()(float x) const {
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
  }
};

struct IsNaNOp { bool operator()(float x) const { return std::isnan(x); } };

// Scalars [detect_negative, detect_positive] (ONNX IsInf attributes, 0 or 1).
struct IsInfOp {
  static constexpr size_t kScalars = 2;
  explicit IsInfOp(std::span<const int64_t> scalars) : negative(scalars[0] != 0), positive(scalars[1] != 0) {}
  bool operator()(float x) const { return std::isinf(x) && (x < 0 ? negative : positive); }
  bool negative, positive;
};

struct NotOp { bool operator()(bool x) const { return !x; } };

// Inner loops from poplibs' unaryOpPerfInfo: {c, false, k} entries are c cycles per k
// elements; {c, true} c + 4 per natural vector; {c, false} c + 4 per element.
constexpr LoopCost kNoCost{};
constexpr OpLoopCosts kAbsCosts{perElements(5), perElements(5), perElements(6), perElements(6), perElements(14),
                                kNoCost};
constexpr OpLoopCosts kRoundingCosts{perVector(6), perVector(6), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kSignCosts{perVector(9), perVector(9), perElements(9), perElements(9), perElements(9), kNoCost};
constexpr OpLoopCosts kErfCosts{perElements(18), perElements(16), perElements(18), perElements(18), perElements(18),
                                kNoCost};
constexpr OpLoopCosts kSqrtCosts{perElements(10, 2), perElements(23, 4), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kExpCosts{perElements(6, 2), perElements(4, 4), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kLogCosts{perElements(12, 2), perElements(4, 4), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kReciprocalCosts{perElements(6, 2), perElements(15, 4), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kSinCosCosts{perElements(2304), perElements(26), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kTanCosts{perElements(5100), perElements(5700), kNoCost, kNoCost, kNoCost, kNoCost};
// poplibs has ASIN only; the other inverse and hyperbolic functions are library calls of
// the same kind (assumption).
constexpr OpLoopCosts kLibraryCallCosts{perElements(106), perElements(106), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kTanhCosts{perElements(12, 2), perElements(4, 4), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kSigmoidCosts{perElements(12, 2), perElements(6, 4), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kIsNaNCosts{perVector(7), perVector(7), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kIsInfCosts{perVector(7), perVector(9), kNoCost, kNoCost, kNoCost, kNoCost};
constexpr OpLoopCosts kNotCosts{kNoCost, kNoCost, kNoCost, kNoCost, kNoCost, perElements(21)};

}  // namespace

void registerMathCodelets(CodeletRegistry& registry) {
  addUnaryFamily<AbsOp>(registry, "Abs", NumericTypes{}, kAbsCosts);
  addUnaryFamily<SignOp>(registry, "Sign", NumericTypes{}, kSignCosts);
  addUnaryFamily<ErfOp>(registry, "Erf", NumericTypes{}, kErfCosts);
  addUnaryFamily<CeilOp>(registry, "Ceil", FloatTypes{}, kRoundingCosts);
  addUnaryFamily<FloorOp>(registry, "Floor", FloatTypes{}, kRoundingCosts);
  addUnaryFamily<RoundOp>(registry, "Round", FloatTypes{}, kRoundingCosts);
  addUnaryFamily<SqrtOp>(registry, "Sqrt", FloatTypes{}, kSqrtCosts);
  addUnaryFamily<ExpOp>(registry, "Exp", FloatTypes{}, kExpCosts);
  addUnaryFamily<LogOp>(registry, "Log", FloatTypes{}, kLogCosts);
  addUnaryFamily<ReciprocalOp>(registry, "Reciprocal", FloatTypes{}, kReciprocalCosts);
  addUnaryFamily<SinOp>(registry, "Sin", FloatTypes{}, kSinCosCosts);
  addUnaryFamily<CosOp>(registry, "Cos", FloatTypes{}, kSinCosCosts);
  addUnaryFamily<TanOp>(registry, "Tan", FloatTypes{}, kTanCosts);
  addUnaryFamily<AsinOp>(registry, "Asin", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<AcosOp>(registry, "Acos", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<AtanOp>(registry, "Atan", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<SinhOp>(registry, "Sinh", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<CoshOp>(registry, "Cosh", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<AsinhOp>(registry, "Asinh", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<AcoshOp>(registry, "Acosh", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<AtanhOp>(registry, "Atanh", FloatTypes{}, kLibraryCallCosts);
  addUnaryFamily<TanhOp>(registry, "Tanh", FloatTypes{}, kTanhCosts);
  addUnaryFamily<SigmoidOp>(registry, "Sigmoid", FloatTypes{}, kSigmoidCosts);
  addPredicateFamily<IsNaNOp>(registry, "IsNaN", FloatTypes{}, kIsNaNCosts);
  addPredicateFamily<IsInfOp>(registry, "IsInf", FloatTypes{}, kIsInfCosts);
  addPredicateFamily<NotOp>(registry, "Not", DTypeList<DType::Bool>{}, kNotCosts);
}

}  // namespace ipusim::codelets
