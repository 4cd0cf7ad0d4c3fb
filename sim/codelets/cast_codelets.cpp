// Cast<from,to> for every pair of dtypes, fields [in, out].
//   to bool:            value != 0 (a NaN is true, as in numpy)
//   from bool:          0 or 1
//   float to integer:   truncates toward zero; NaN gives 0; out-of-range values (and
//                       infinities) saturate to the integer type's min or max
//   integer to integer: wraps modulo 2^bits (numpy's astype)
//   to float16:         through float, rounding to nearest even (overflow gives inf)
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

template <typename To, typename From>
To saturatingTruncate(From value) {
  const double v = static_cast<double>(value);
  if (std::isnan(v)) return To{0};
  constexpr int bits = std::numeric_limits<To>::digits;  // value bits, sign excluded
  const double limit = std::ldexp(1.0, bits);            // max + 1, exact in a double
  if (v >= limit) return std::numeric_limits<To>::max();
  if (v <= (std::is_signed_v<To> ? -limit : -1.0)) return std::numeric_limits<To>::min();
  return static_cast<To>(v);  // in range: truncates toward zero
}

template <typename To, typename From>
To convertValue(From value) {
  if constexpr (std::is_same_v<To, bool>) {
    return value != From{0};
  } else if constexpr (std::is_same_v<From, bool>) {
    return static_cast<To>(value ? 1 : 0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    return saturatingTruncate<To>(value);
  } else {
    return static_cast<To>(value);
  }
}

struct CastOp {
  template <typename Out, typename V>
  static Out apply(V value) {
    return convertValue<Out>(value);
  }
};

// poplibs Cast2D: 5 cycles per vertex, 11 per region of outer loop plus 19 of prologue.
constexpr uint32_t kCastVertexCycles = 5;
constexpr uint32_t kCastRegionCycles = 11 + 19;

// Inner loop per poplibs' cast model on a 64-bit data path: fp32->fp16 converts a vector of
// fp16 width in 2 cycles (two 64-bit loads); fp16->fp32 a vector of fp32 width in 1; a same-
// type float copy a natural vector per cycle; anything else runs in C++, 2 cycles an element.
VectorCost castCost(DType from, DType to) {
  VectorCost cost{kCastVertexCycles, kCastRegionCycles, 2, Lanes::One};
  if (from == DType::Float32 && to == DType::Float16) {
    cost.cyclesPerVector = 2;
    cost.lanes = Lanes::Fp16;
  } else if (from == DType::Float16 && to == DType::Float32) {
    cost.cyclesPerVector = 1;
    cost.lanes = Lanes::Fp32;
  } else if (from == to && isFloat(from)) {
    cost.cyclesPerVector = 1;
    cost.lanes = lanesOf(from);
  }
  return cost;
}

template <DType From, DType To>
void addCast(CodeletRegistry& registry) {
  using In = Element<From>;
  using Out = Element<To>;
  Codelet codelet;
  codelet.name = "Cast<" + std::string(dtypeName(From)) + "," + std::string(dtypeName(To)) + ">";
  codelet.kernel = [name = codelet.name](const VertexData& data) {
    applyUnary<In, Out, CastOp>(data, name);
  };
  codelet.cycles = vectorCycles(castCost(From, To), 1, Out::bytes);
  codelet.codeBytes = kElementwiseCodeBytes;
  registry.add(std::move(codelet));
}

}  // namespace

void registerCastCodelets(CodeletRegistry& registry) {
  forEachDType([&]<DType From>() {
    forEachDType([&]<DType To>() { addCast<From, To>(registry); });
  });
}

}  // namespace ipusim::codelets
