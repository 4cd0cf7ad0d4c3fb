// Elementwise arithmetic codelets: Add, Sub, Mul, Div (binary) and Neg, Relu (unary).
// Each op is one functor; the tables below instantiate it per dtype with its cycle cost.
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/elementwise_fields.h"
#include "sim/codelets/vector_cost.h"

namespace ipusim::codelets {
namespace {

// Integer arithmetic wraps modulo 2^bits like numpy's; done in the unsigned type so that
// overflow is defined behaviour rather than UB.
template <typename T>
using Unsigned = std::make_unsigned_t<T>;

struct AddOp {
  template <typename V>
  static V apply(V a, V b) {
    if constexpr (std::is_integral_v<V>) {
      return static_cast<V>(static_cast<Unsigned<V>>(static_cast<Unsigned<V>>(a) +
                                                      static_cast<Unsigned<V>>(b)));
    } else {
      return a + b;
    }
  }
};

struct SubOp {
  template <typename V>
  static V apply(V a, V b) {
    if constexpr (std::is_integral_v<V>) {
      return static_cast<V>(static_cast<Unsigned<V>>(static_cast<Unsigned<V>>(a) -
                                                      static_cast<Unsigned<V>>(b)));
    } else {
      return a - b;
    }
  }
};

struct MulOp {
  template <typename V>
  static V apply(V a, V b) {
    if constexpr (std::is_integral_v<V>) {
      // uint8 operands promote to int; their product (at most 255*255) still fits.
      using Wide = std::conditional_t<(sizeof(V) < sizeof(unsigned)), unsigned, Unsigned<V>>;
      return static_cast<V>(static_cast<Unsigned<V>>(static_cast<Wide>(static_cast<Unsigned<V>>(a)) *
                                                      static_cast<Wide>(static_cast<Unsigned<V>>(b))));
    } else {
      return a * b;
    }
  }
};

// Integer division truncates toward zero (C, poplibs and onnxruntime semantics). Division by
// zero yields 0 instead of trapping, and the one overflowing quotient, min / -1, wraps to
// min. Float division is IEEE: x / 0 is +-inf, 0 / 0 is NaN.
struct DivOp {
  template <typename V>
  static V apply(V a, V b) {
    if constexpr (std::is_integral_v<V>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<V>) {
        if (a == std::numeric_limits<V>::min() && b == -1) return a;
      }
      return static_cast<V>(a / b);
    } else {
      return a / b;
    }
  }
};

struct NegOp {
  template <typename Out, typename V>
  static Out apply(V a) {
    if constexpr (std::is_integral_v<V>) {
      return static_cast<V>(static_cast<Unsigned<V>>(Unsigned<V>{0} - static_cast<Unsigned<V>>(a)));
    } else {
      return -a;
    }
  }
};

// max(x, 0); a NaN stays NaN, as with numpy.maximum.
struct ReluOp {
  template <typename Out, typename V>
  static Out apply(V a) {
    if constexpr (std::is_floating_point_v<V>) {
      if (std::isnan(a)) return a;
    }
    return a > V{0} ? a : V{0};
  }
};

// Inner-loop cycles per vector for each dtype of one op (lanes: fp32/fp16 use the vector
// unit, integers one element per iteration). Sources in docs/cost-model.md.
struct OpCycles {
  uint32_t float32, float16, int8, uint8, int32, uint32, int64;
  uint32_t of(DType t) const {
    switch (t) {
      case DType::Float32: return float32;
      case DType::Float16: return float16;
      case DType::Int8: return int8;
      case DType::UInt8: return uint8;
      case DType::Int32: return int32;
      case DType::UInt32: return uint32;
      case DType::Int64: return int64;
      case DType::Bool: break;
    }
    return 0;
  }
};

// poplibs BinaryOp2D: 5 cycles of vertex overhead; UnaryOp2D: 20.
constexpr uint32_t kBinaryVertexCycles = 5;
constexpr uint32_t kUnaryVertexCycles = 20;

// fp: poplibs' cycles per vector plus its loop overhead (2 for add/sub/mul, which have
// assembly codelets); integers: poplibs' per-element figures, int8/uint8 as int32/uint32.
constexpr OpCycles kAddSubCycles{3, 3, 7, 7, 7, 7, 11};
constexpr OpCycles kMulCycles{3, 3, 7, 7, 7, 7, 30};
constexpr OpCycles kDivCycles{10, 21, 277, 265, 277, 265, 130};
// Unary: poplibs' figure plus its 4-cycle loop overhead where the table has no unroll.
constexpr OpCycles kNegCycles{2, 2, 6, 0, 6, 0, 9};
constexpr OpCycles kReluCycles{3, 3, 6, 0, 6, 0, 9};

std::string codeletName(std::string_view op, DType t) {
  return std::string(op) + "<" + std::string(dtypeName(t)) + ">";
}

template <DType D, class Op>
void addBinary(CodeletRegistry& registry, std::string_view op, const OpCycles& cycles) {
  using E = Element<D>;
  Codelet codelet;
  codelet.name = codeletName(op, D);
  codelet.kernel = [name = codelet.name](const VertexData& data) {
    applyBinary<E, E, E, Op>(data, name);
  };
  codelet.cycles = vectorCycles({kBinaryVertexCycles, 0, cycles.of(D), lanesOf(D)}, 2, E::bytes);
  codelet.codeBytes = kElementwiseCodeBytes;
  codelet.regionwise = true;
  registry.add(std::move(codelet));
}

template <DType D, class Op>
void addUnary(CodeletRegistry& registry, std::string_view op, const OpCycles& cycles) {
  using E = Element<D>;
  Codelet codelet;
  codelet.name = codeletName(op, D);
  codelet.kernel = [name = codelet.name](const VertexData& data) {
    applyUnary<E, E, Op>(data, name);
  };
  codelet.cycles = vectorCycles({kUnaryVertexCycles, 0, cycles.of(D), lanesOf(D)}, 1, E::bytes);
  codelet.codeBytes = kElementwiseCodeBytes;
  codelet.regionwise = true;
  registry.add(std::move(codelet));
}

template <class Op>
void addBinaryFamily(CodeletRegistry& registry, std::string_view op, const OpCycles& cycles) {
  addBinary<DType::Float32, Op>(registry, op, cycles);
  addBinary<DType::Float16, Op>(registry, op, cycles);
  addBinary<DType::Int8, Op>(registry, op, cycles);
  addBinary<DType::UInt8, Op>(registry, op, cycles);
  addBinary<DType::Int32, Op>(registry, op, cycles);
  addBinary<DType::UInt32, Op>(registry, op, cycles);
  addBinary<DType::Int64, Op>(registry, op, cycles);
}

// Signed dtypes only: negating or rectifying an unsigned value is not a model op.
template <class Op>
void addSignedUnaryFamily(CodeletRegistry& registry, std::string_view op, const OpCycles& cycles) {
  addUnary<DType::Float32, Op>(registry, op, cycles);
  addUnary<DType::Float16, Op>(registry, op, cycles);
  addUnary<DType::Int8, Op>(registry, op, cycles);
  addUnary<DType::Int32, Op>(registry, op, cycles);
  addUnary<DType::Int64, Op>(registry, op, cycles);
}

}  // namespace

void registerElementwiseCodelets(CodeletRegistry& registry) {
  addBinaryFamily<AddOp>(registry, "Add", kAddSubCycles);
  addBinaryFamily<SubOp>(registry, "Sub", kAddSubCycles);
  addBinaryFamily<MulOp>(registry, "Mul", kMulCycles);
  addBinaryFamily<DivOp>(registry, "Div", kDivCycles);
  addSignedUnaryFamily<NegOp>(registry, "Neg", kNegCycles);
  addSignedUnaryFamily<ReluOp>(registry, "Relu", kReluCycles);
}

}  // namespace ipusim::codelets
