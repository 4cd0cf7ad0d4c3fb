// Activation codelets with ONNX's attributes as vertex scalars (the bits of a double, read
// as float like onnxruntime's float attributes): HardSigmoid, HardSwish, Elu, Selu, Celu,
// LeakyRelu, ThresholdedRelu, Softplus, Softsign, Shrink, and PRelu [x, slope, out].
// Floats compute in float and round once on store. Cycle figures: docs/cost-model.md.
#include <cmath>
#include <type_traits>

#include "sim/codelets/mapped_codelets.h"

namespace ipusim::codelets {
namespace {

float floatScalar(std::span<const int64_t> scalars, size_t i) { return static_cast<float>(scalarAsDouble(scalars[i])); }

// Scalars [alpha, beta]: max(0, min(1, alpha * x + beta)); NaN stays NaN.
struct HardSigmoidOp {
  static constexpr size_t kScalars = 2;
  explicit HardSigmoidOp(std::span<const int64_t> s) : alpha(floatScalar(s, 0)), beta(floatScalar(s, 1)) {}
  float operator()(float x) const {
    const float v = alpha * x + beta;
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
  }
  float alpha, beta;
};

// x * HardSigmoid(x) with ONNX's fixed alpha = 1/6, beta = 0.5.
struct HardSwishOp {
  float operator()(float x) const {
    const float v = x * (1.0f / 6.0f) + 0.5f;
    return x * (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v));
  }
};

// Scalar [alpha]: x < 0 ? alpha * (e^x - 1) : x.
struct EluOp {
  static constexpr size_t kScalars = 1;
  explicit EluOp(std::span<const int64_t> s) : alpha(floatScalar(s, 0)) {}
  float operator()(float x) const { return x < 0.0f ? alpha * std::expm1(x) : x; }
  float alpha;
};

// Scalars [alpha, gamma]: gamma * (x <= 0 ? alpha * e^x - alpha : x).
struct SeluOp {
  static constexpr size_t kScalars = 2;
  explicit SeluOp(std::span<const int64_t> s) : alpha(floatScalar(s, 0)), gamma(floatScalar(s, 1)) {}
  float operator()(float x) const { return x <= 0.0f ? gamma * (alpha * std::exp(x) - alpha) : gamma * x; }
  float alpha, gamma;
};

// Scalar [alpha]: max(0, x) + min(0, alpha * (e^(x / alpha) - 1)).
struct CeluOp {
  static constexpr size_t kScalars = 1;
  explicit CeluOp(std::span<const int64_t> s) : alpha(floatScalar(s, 0)) {}
  float operator()(float x) const {
    if (std::isnan(x)) return x;
    return std::fmax(0.0f, x) + std::fmin(0.0f, alpha * std::expm1(x / alpha));
  }
  float alpha;
};

// Scalar [alpha]: x < 0 ? alpha * x : x.
struct LeakyReluOp {
  static constexpr size_t kScalars = 1;
  explicit LeakyReluOp(std::span<const int64_t> s) : alpha(floatScalar(s, 0)) {}
  float operator()(float x) const { return x < 0.0f ? alpha * x : x; }
  float alpha;
};

// Scalar [alpha]: x > alpha ? x : 0.
struct ThresholdedReluOp {
  static constexpr size_t kScalars = 1;
  explicit ThresholdedReluOp(std::span<const int64_t> s) : alpha(floatScalar(s, 0)) {}
  float operator()(float x) const { return x > alpha ? x : 0.0f; }
  float alpha;
};

// ln(1 + e^x), in a form that does not overflow for large x.
struct SoftplusOp {
  float operator()(float x) const {
    return x > 0.0f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
};

struct SoftsignOp {
  float operator()(float x) const { return x / (1.0f + std::fabs(x)); }
};

// Scalars [lambd, bias]: x < -lambd ? x + bias : (x > lambd ? x - bias : 0). Integers
// compute in double and truncate back (saturating).
struct ShrinkOp {
  static constexpr size_t kScalars = 2;
  explicit ShrinkOp(std::span<const int64_t> s) : lambd(scalarAsDouble(s[0])), bias(scalarAsDouble(s[1])) {}
  template <typename V>
  V operator()(V x) const {
    if constexpr (std::is_floating_point_v<V>) {
      const auto l = static_cast<float>(lambd);
      const auto b = static_cast<float>(bias);
      return x < -l ? x + b : (x > l ? x - b : 0.0f);
    } else {
      const auto v = static_cast<double>(x);
      return v < -lambd ? truncateToInteger<V>(v + bias) : (v > lambd ? truncateToInteger<V>(v - bias) : V{0});
    }
  }
  double lambd, bias;
};

// x < 0 ? slope * x : x; integer products wrap (numpy).
struct PReluOp {
  template <typename V>
  V operator()(V x, V slope) const {
    if constexpr (std::is_floating_point_v<V>) {
      return x < 0.0f ? slope * x : x;
    } else if constexpr (std::is_signed_v<V>) {
      using U = std::make_unsigned_t<V>;
      return x < 0 ? static_cast<V>(static_cast<U>(static_cast<U>(slope) * static_cast<U>(x))) : x;
    } else {
      return x;
    }
  }
};

// popops has no vertices for these; each is costed as the fused loop popops::map would run
// over poplibs' per-vector figures (docs/cost-model.md): arithmetic 1, compare-select 3,
// clamp 2, exp 6 (fp32) / 4 (fp16), log 12 / 4, divide 10 / 21, loop overhead 2.
constexpr LoopCost kNoCost{};
constexpr OpLoopCosts floatCosts(uint32_t float32, uint32_t float16) {
  return {perVector(float32), perVector(float16), kNoCost, kNoCost, kNoCost, kNoCost};
}
constexpr OpLoopCosts kHardSigmoidCosts = floatCosts(6, 6);   // 2 arithmetic + clamp + overhead
constexpr OpLoopCosts kHardSwishCosts = floatCosts(7, 7);     // HardSigmoid + multiply
constexpr OpLoopCosts kEluCosts = floatCosts(13, 11);         // exp + 2 arithmetic + select + overhead
constexpr OpLoopCosts kSeluCosts = floatCosts(14, 12);        // exp + 3 arithmetic + select + overhead
constexpr OpLoopCosts kCeluCosts = floatCosts(18, 16);        // exp + 4 arithmetic + 2 selects + overhead
constexpr OpLoopCosts kLeakyReluCosts = floatCosts(6, 6);     // multiply + select + overhead
constexpr OpLoopCosts kThresholdedReluCosts = floatCosts(5, 5);  // select + overhead
constexpr OpLoopCosts kSoftplusCosts = floatCosts(21, 11);    // exp + add + log + overhead
constexpr OpLoopCosts kSoftsignCosts = floatCosts(14, 25);    // abs + add + divide + overhead
// Shrink: 2 selects + arithmetic + overhead; integers per element: 2 compare-selects and an
// add at poplibs' INT figures (7 each), LONGLONG (15 + 15 + 11).
constexpr OpLoopCosts kShrinkCosts{perVector(9), perVector(9), perElements(21), perElements(21), perElements(41),
                                   kNoCost};
// PRelu: multiply + select + overhead; integers MULTIPLY (7, LONGLONG 30) + select (5).
constexpr OpLoopCosts kPReluCosts{perVector(6), perVector(6), perElements(12), perElements(12), perElements(35),
                                  kNoCost};

}  // namespace

void registerActivationCodelets(CodeletRegistry& registry) {
  addUnaryFamily<HardSigmoidOp>(registry, "HardSigmoid", FloatTypes{}, kHardSigmoidCosts);
  addUnaryFamily<HardSwishOp>(registry, "HardSwish", FloatTypes{}, kHardSwishCosts);
  addUnaryFamily<EluOp>(registry, "Elu", FloatTypes{}, kEluCosts);
  addUnaryFamily<SeluOp>(registry, "Selu", FloatTypes{}, kSeluCosts);
  addUnaryFamily<CeluOp>(registry, "Celu", FloatTypes{}, kCeluCosts);
  addUnaryFamily<LeakyReluOp>(registry, "LeakyRelu", FloatTypes{}, kLeakyReluCosts);
  addUnaryFamily<ThresholdedReluOp>(registry, "ThresholdedRelu", FloatTypes{}, kThresholdedReluCosts);
  addUnaryFamily<SoftplusOp>(registry, "Softplus", FloatTypes{}, kSoftplusCosts);
  addUnaryFamily<SoftsignOp>(registry, "Softsign", FloatTypes{}, kSoftsignCosts);
  addUnaryFamily<ShrinkOp>(registry, "Shrink", NumericTypes{}, kShrinkCosts);
  addBinaryFamily<PReluOp>(registry, "PRelu",
                           DTypeList<DType::Float32, DType::Float16, DType::Int32, DType::UInt32, DType::Int64>{},
                           kPReluCosts);
}

}  // namespace ipusim::codelets
