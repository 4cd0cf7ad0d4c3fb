// Building blocks of the elementwise math, logic and activation codelet tables: loops that
// apply a functor over fields of any element types, and the registration templates that
// instantiate one functor per dtype as "Op<dtype>" (or "Op<dtype,dtype>") codelets.
//
// A functor is called with the loaded values of one element of every input field (float16
// loads as float) and returns the output value, which the output field's store rounds
// (float16: once, to nearest even). A functor that takes vertex scalars (an alpha, ...)
// declares `static constexpr size_t kScalars` and a constructor from the scalar span.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/elementwise_fields.h"
#include "sim/codelets/loop_cost.h"
#include "sim/error.h"

namespace ipusim::codelets {

template <DType... Ds>
struct DTypeList {};

using FloatTypes = DTypeList<DType::Float32, DType::Float16>;
using NumericTypes = DTypeList<DType::Float32, DType::Float16, DType::Int8, DType::UInt8, DType::Int32,
                               DType::UInt32, DType::Int64>;
using SignedTypes = DTypeList<DType::Float32, DType::Float16, DType::Int8, DType::Int32, DType::Int64>;
using AllTypes = DTypeList<DType::Float32, DType::Float16, DType::Int8, DType::UInt8, DType::Int32,
                           DType::UInt32, DType::Int64, DType::Bool>;

// poplibs' vertex overheads: UnaryOp2D 20 cycles, BinaryOp2D (and Select, Clamp) 5.
constexpr uint32_t kUnaryVertexCycles = 20;
constexpr uint32_t kBinaryVertexCycles = 5;

inline std::string typedName(std::string_view op, DType t) {
  return std::string(op) + "<" + std::string(dtypeName(t)) + ">";
}
inline std::string typedName(std::string_view op, DType a, DType b) {
  return std::string(op) + "<" + std::string(dtypeName(a)) + "," + std::string(dtypeName(b)) + ">";
}

// A real value converted to an integer type: truncated toward zero, NaN gives 0, out of
// range saturates (the Cast codelets' rule).
template <typename To>
To truncateToInteger(double value) {
  if (std::isnan(value)) return To{0};
  const double limit = std::ldexp(1.0, std::numeric_limits<To>::digits);  // max + 1
  if (value >= limit) return std::numeric_limits<To>::max();
  if (value <= (std::is_signed_v<To> ? -limit : -1.0)) return std::numeric_limits<To>::min();
  return static_cast<To>(value);
}

template <class Op>
constexpr size_t scalarCount() {
  if constexpr (requires { Op::kScalars; }) {
    return Op::kScalars;
  } else {
    return 0;
  }
}

// The functor of a vertex, built from its scalars; throws SimError if they are missing.
template <class Op>
Op makeOp(std::span<const int64_t> scalars, std::string_view codelet) {
  constexpr size_t needed = scalarCount<Op>();
  if (scalars.size() != needed) {
    throw SimError(std::string(codelet) + ": expects " + std::to_string(needed) + " scalars, the vertex has " +
                   std::to_string(scalars.size()));
  }
  if constexpr (needed > 0) {
    return Op(scalars);
  } else {
    return Op{};
  }
}

// out[i] = op(in_0[i], ..., in_k[i]) over every region; fields [in_0, ..., in_k, out].
template <class Out, class... Ins, class Op>
void applyMapped(const VertexData& data, std::string_view codelet, const Op& op) {
  checkElementwiseFields(data, {Ins::bytes..., Out::bytes}, codelet);
  constexpr size_t kOut = sizeof...(Ins);
  const auto& fields = data.fields;
  for (size_t r = 0; r < fields[kOut].size(); ++r) {
    uint8_t* out = fields[kOut][r].data();
    const size_t count = fields[kOut][r].size() / Out::bytes;
    [&]<size_t... K>(std::index_sequence<K...>) {
      for (size_t i = 0; i < count; ++i) {
        Out::store(out + i * Out::bytes, op(Ins::load(fields[K][r].data() + i * Ins::bytes)...));
      }
    }(std::index_sequence_for<Ins...>{});
  }
}

// Variadic ops (Sum, Mean, Max, Min): fields [in_0, ..., in_{n-1}, out], n >= 1, all of
// element type E. out[i] = op.finish(op.combine(...op.combine(in_0[i], in_1[i])...), n).
template <class E, class Op>
void applyFolded(const VertexData& data, std::string_view codelet, const Op& op) {
  const auto& fields = data.fields;
  if (fields.size() < 2) {
    throw SimError(std::string(codelet) + ": expects at least one input field and an output field, the vertex has " +
                   std::to_string(fields.size()) + " fields");
  }
  const size_t inputs = fields.size() - 1;
  for (size_t f = 0; f < inputs; ++f) {
    VertexData pair;
    pair.fields = {fields[f], fields.back()};
    checkElementwiseFields(pair, {E::bytes, E::bytes}, codelet);
  }
  for (size_t r = 0; r < fields.back().size(); ++r) {
    uint8_t* out = fields.back()[r].data();
    const size_t count = fields.back()[r].size() / E::bytes;
    for (size_t i = 0; i < count; ++i) {
      auto acc = op.start(E::load(fields[0][r].data() + i * E::bytes));
      for (size_t f = 1; f < inputs; ++f) acc = op.combine(acc, E::load(fields[f][r].data() + i * E::bytes));
      E::store(out + i * E::bytes, op.finish(acc, inputs));
    }
  }
}

// Registers codelet `name` computing Op over input element types In... into Out, costed
// by `cost` on the natural vector of `costType` over the output field.
template <class Op, DType Out, DType... In>
void addMapped(CodeletRegistry& registry, std::string name, uint32_t vertexCycles, uint32_t regionCycles,
               LoopCost cost, DType costType) {
  Codelet codelet;
  codelet.name = std::move(name);
  codelet.kernel = [name = codelet.name](const VertexData& data) {
    applyMapped<Element<Out>, Element<In>...>(data, name, makeOp<Op>(data.scalars, name));
  };
  codelet.cycles = outputLoopCycles(vertexCycles, regionCycles, cost, costType, Element<Out>::bytes);
  codelet.codeBytes = kElementwiseCodeBytes;
  codelet.regionwise = true;
  registry.add(std::move(codelet));
}

// "Op<D>": D -> D for each D of the list (unary ops).
template <class Op, DType... Ds>
void addUnaryFamily(CodeletRegistry& registry, std::string_view op, DTypeList<Ds...>, const OpLoopCosts& costs) {
  (addMapped<Op, Ds, Ds>(registry, typedName(op, Ds), kUnaryVertexCycles, 0, costs.of(Ds), Ds), ...);
}

// "Op<D>": D -> bool (IsNaN, IsInf, Not).
template <class Op, DType... Ds>
void addPredicateFamily(CodeletRegistry& registry, std::string_view op, DTypeList<Ds...>, const OpLoopCosts& costs) {
  (addMapped<Op, DType::Bool, Ds>(registry, typedName(op, Ds), kUnaryVertexCycles, 0, costs.of(Ds), Ds), ...);
}

// "Op<D>": (D, D) -> D (binary ops).
template <class Op, DType... Ds>
void addBinaryFamily(CodeletRegistry& registry, std::string_view op, DTypeList<Ds...>, const OpLoopCosts& costs) {
  (addMapped<Op, Ds, Ds, Ds>(registry, typedName(op, Ds), kBinaryVertexCycles, 0, costs.of(Ds), Ds), ...);
}

// "Op<D>": (D, D) -> bool (comparisons, logic).
template <class Op, DType... Ds>
void addComparisonFamily(CodeletRegistry& registry, std::string_view op, DTypeList<Ds...>,
                         const OpLoopCosts& costs) {
  (addMapped<Op, DType::Bool, Ds, Ds>(registry, typedName(op, Ds), kBinaryVertexCycles, 0, costs.of(Ds), Ds), ...);
}

}  // namespace ipusim::codelets
