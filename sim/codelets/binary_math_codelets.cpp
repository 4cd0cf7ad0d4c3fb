// Binary and variadic math codelets: Pow (mixed base and exponent types), Mod and Fmod,
// ShiftLeft/ShiftRight (BitShift), Max, Min, Sum, Mean (any number of inputs) and the two
// Clip forms: Clip<T> with bound tensors [x, min, max, out] and BroadcastClip<T> with
// scalar bounds [x, out] (poplibs' Clamp and BroadcastClamp). Semantics follow numpy, the
// ONNX reference; cycle figures: docs/cost-model.md.
#include <cmath>
#include <limits>
#include <type_traits>

#include "sim/codelets/mapped_codelets.h"

namespace ipusim::codelets {
namespace {

// numpy.maximum / numpy.minimum: a NaN operand gives NaN.
template <typename V>
V maximum(V a, V b) {
  if constexpr (std::is_floating_point_v<V>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return a < b ? b : a;
}

template <typename V>
V minimum(V a, V b) {
  if constexpr (std::is_floating_point_v<V>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return b < a ? b : a;
}

// base^exponent for integers, wrapping modulo 2^bits like numpy's integer power. A negative
// exponent gives the truncated real result: 1 for base 1, +-1 for base -1, otherwise 0.
template <typename B, typename E>
B integerPower(B base, E exponent) {
  if constexpr (std::is_signed_v<E>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exponent % 2 == 0) ? 1 : -1;
      return 0;
    }
  }
  using U = std::make_unsigned_t<B>;
  U result = 1;
  U factor = static_cast<U>(base);
  for (auto e = static_cast<uint64_t>(exponent); e != 0; e >>= 1) {
    if (e & 1) result = static_cast<U>(result * factor);
    factor = static_cast<U>(factor * factor);
  }
  return static_cast<B>(result);
}

// ONNX Pow: the output has the base's type. Float bases compute in double and round once;
// integer bases with integer exponents are exact (wrapping); integer bases with float
// exponents truncate the real power (onnxruntime's static_cast).
struct PowOp {
  template <typename B, typename E>
  B operator()(B base, E exponent) const {
    if constexpr (std::is_floating_point_v<B>) {
      return static_cast<B>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
    } else if constexpr (std::is_integral_v<E>) {
      return integerPower(base, exponent);
    } else {
      return truncateToInteger<B>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
    }
  }
};

// Mod with fmod = 0: the remainder takes the divisor's sign (numpy.mod, Python %).
// Integer x mod 0 is 0 (numpy).
struct ModOp {
  template <typename V>
  V operator()(V a, V b) const {
    if constexpr (std::is_floating_point_v<V>) {
      V r = std::fmod(a, b);
      if (r != V{0}) {
        if ((r < V{0}) != (b < V{0})) r += b;
      } else {
        r = std::copysign(V{0}, b);
      }
      return r;
    } else if constexpr (std::is_signed_v<V>) {
      if (b == 0 || b == -1) return 0;  // -1 also avoids the overflowing min % -1
      V r = static_cast<V>(a % b);
      if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<V>(r + b);
      return r;
    } else {
      return b == 0 ? V{0} : static_cast<V>(a % b);
    }
  }
};

// Mod with fmod = 1: the remainder takes the dividend's sign (C fmod, numpy.fmod).
struct FmodOp {
  template <typename V>
  V operator()(V a, V b) const {
    if constexpr (std::is_floating_point_v<V>) {
      return std::fmod(a, b);
    } else {
      if constexpr (std::is_signed_v<V>) {
        if (b == -1) return 0;
      }
      return b == 0 ? V{0} : static_cast<V>(a % b);
    }
  }
};

// Shifts by the type's width or more give 0 (numpy), instead of C's undefined behaviour.
struct ShiftLeftOp {
  template <typename V>
  V operator()(V a, V b) const {
    return b >= std::numeric_limits<V>::digits ? V{0} : static_cast<V>(a << b);
  }
};

struct ShiftRightOp {
  template <typename V>
  V operator()(V a, V b) const {
    return b >= std::numeric_limits<V>::digits ? V{0} : static_cast<V>(a >> b);
  }
};

// Variadic folds: start, combine, finish(acc, inputs).
struct MaxFold {
  template <typename V> V start(V x) const { return x; }
  template <typename V> V combine(V a, V b) const { return maximum(a, b); }
  template <typename V> V finish(V a, size_t) const { return a; }
};

struct MinFold {
  template <typename V> V start(V x) const { return x; }
  template <typename V> V combine(V a, V b) const { return minimum(a, b); }
  template <typename V> V finish(V a, size_t) const { return a; }
};

// Float accumulation, rounded once on store (float16 sums in float).
struct SumFold {
  float start(float x) const { return x; }
  float combine(float a, float b) const { return a + b; }
  float finish(float a, size_t) const { return a; }
};

struct MeanFold {
  float start(float x) const { return x; }
  float combine(float a, float b) const { return a + b; }
  float finish(float a, size_t inputs) const { return a / static_cast<float>(inputs); }
};

// clip(x, lo, hi) = minimum(maximum(x, lo), hi), numpy.clip's definition.
struct ClipOp {
  template <typename V>
  V operator()(V x, V lo, V hi) const { return minimum(maximum(x, lo), hi); }
};

// Scalars [lo, hi]: a double's bits for floats, the value itself for integers.
struct BroadcastClipOp {
  static constexpr size_t kScalars = 2;
  explicit BroadcastClipOp(std::span<const int64_t> scalars) : lo(scalars[0]), hi(scalars[1]) {}
  template <typename V>
  static V bound(int64_t scalar) {
    if constexpr (std::is_floating_point_v<V>) {
      return static_cast<V>(scalarAsDouble(scalar));
    } else {
      return static_cast<V>(scalar);
    }
  }
  template <typename V>
  V operator()(V x) const { return minimum(maximum(x, bound<V>(lo)), bound<V>(hi)); }
  int64_t lo, hi;
};

constexpr LoopCost kNoCost{};
// poplibs' binaryOpPerfInfo {c, false, k}: c cycles per k elements.
// POWER has float figures only; integer bases are assumed to go through float.
constexpr OpLoopCosts kPowCosts{perElements(312), perElements(325), perElements(312), perElements(312),
                                perElements(312), kNoCost};
constexpr OpLoopCosts kRemainderCosts{perElements(133, 2), perElements(300, 4), perElements(292), perElements(282),
                                      perElements(166), kNoCost};
constexpr OpLoopCosts kShiftCosts{kNoCost, kNoCost, perElements(7), perElements(7), perElements(18), kNoCost};
constexpr OpLoopCosts kMaxMinCosts{perElements(4, 2), perElements(4, 4), perElements(7), perElements(8),
                                   perElements(15), kNoCost};
// ADD {1, true} plus the 2-cycle overhead of its assembly loop, per natural vector.
constexpr OpLoopCosts kAddCosts{perVector(3), perVector(3), perElements(7), perElements(7), perElements(11), kNoCost};
// MULTIPLY by 1/n for Mean: {1, true} + 2.
constexpr OpLoopCosts kScaleCosts{perVector(3), perVector(3), kNoCost, kNoCost, kNoCost, kNoCost};
// poplibs' clampCycles: 2 cycles per natural float vector, 7 per int; int64 assumed
// MAXIMUM + MINIMUM (15 + 15); 6 cycles of overhead per region.
constexpr OpLoopCosts kClampCosts{perVector(2), perVector(2), perElements(7), perElements(7), perElements(30),
                                  kNoCost};
constexpr uint32_t kClampRegionCycles = 6;

// Max, Min, Sum: one pass of the binary op per input after the first (a single input is
// a copy, costed as one pass); Mean adds a scaling pass.
template <class Fold, DType D>
void addFolded(CodeletRegistry& registry, std::string_view op, const OpLoopCosts& costs, bool scales) {
  using E = Element<D>;
  Codelet codelet;
  codelet.name = typedName(op, D);
  codelet.kernel = [name = codelet.name](const VertexData& data) { applyFolded<E>(data, name, Fold{}); };
  const LoopCost pass = costs.of(D);
  const LoopCost scale = scales ? kScaleCosts.of(D) : kNoCost;
  codelet.cycles = [pass, scale](const Vertex& vertex, const Target& target) -> uint64_t {
    uint64_t cycles = kBinaryVertexCycles;
    if (vertex.fields.empty()) return cycles;
    const auto passes = static_cast<uint32_t>(vertex.fields.size() > 2 ? vertex.fields.size() - 2 : 1);
    cycles += loopCycles(vertex.fields.back(), E::bytes, pass, D, 0, passes, target);
    if (scale.cycles != 0) cycles += loopCycles(vertex.fields.back(), E::bytes, scale, D, 0, 1, target);
    return cycles;
  };
  codelet.codeBytes = kElementwiseCodeBytes;
  registry.add(std::move(codelet));
}

template <class Fold, DType... Ds>
void addFoldedFamily(CodeletRegistry& registry, std::string_view op, DTypeList<Ds...>, const OpLoopCosts& costs,
                     bool scales = false) {
  (addFolded<Fold, Ds>(registry, op, costs, scales), ...);
}

// "Pow<B,E>" for one base type and every exponent type.
template <DType B, DType... Es>
void addPowFamily(CodeletRegistry& registry, DTypeList<Es...>) {
  (addMapped<PowOp, B, B, Es>(registry, typedName("Pow", B, Es), kBinaryVertexCycles, 0, kPowCosts.of(B), B), ...);
}

template <DType... Ds>
void addClipFamily(CodeletRegistry& registry, DTypeList<Ds...>) {
  (addMapped<ClipOp, Ds, Ds, Ds, Ds>(registry, typedName("Clip", Ds), kBinaryVertexCycles, kClampRegionCycles,
                                     kClampCosts.of(Ds), Ds),
   ...);
  (addMapped<BroadcastClipOp, Ds, Ds>(registry, typedName("BroadcastClip", Ds), kBinaryVertexCycles,
                                      kClampRegionCycles, kClampCosts.of(Ds), Ds),
   ...);
}

}  // namespace

void registerBinaryMathCodelets(CodeletRegistry& registry) {
  // Pow: bases of ONNX Pow's T the IPU has, exponents of its T1.
  addPowFamily<DType::Float32>(registry, NumericTypes{});
  addPowFamily<DType::Float16>(registry, NumericTypes{});
  addPowFamily<DType::Int32>(registry, NumericTypes{});
  addPowFamily<DType::Int64>(registry, NumericTypes{});
  addBinaryFamily<ModOp>(registry, "Mod", NumericTypes{}, kRemainderCosts);
  addBinaryFamily<FmodOp>(registry, "Fmod", NumericTypes{}, kRemainderCosts);
  addBinaryFamily<ShiftLeftOp>(registry, "ShiftLeft", DTypeList<DType::UInt8, DType::UInt32>{}, kShiftCosts);
  addBinaryFamily<ShiftRightOp>(registry, "ShiftRight", DTypeList<DType::UInt8, DType::UInt32>{}, kShiftCosts);
  addFoldedFamily<MaxFold>(registry, "Max", NumericTypes{}, kMaxMinCosts);
  addFoldedFamily<MinFold>(registry, "Min", NumericTypes{}, kMaxMinCosts);
  addFoldedFamily<SumFold>(registry, "Sum", FloatTypes{}, kAddCosts);
  addFoldedFamily<MeanFold>(registry, "Mean", FloatTypes{}, kAddCosts, true);
  addClipFamily(registry, NumericTypes{});
}

}  // namespace ipusim::codelets
