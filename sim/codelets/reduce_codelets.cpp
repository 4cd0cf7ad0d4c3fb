// Reduction codelets, after poplibs' Reduce vertices: the scatter form (partials regions
// accumulated into output regions, poplibs' default Reduce vertex) and the continuous form
// (rows reduced to consecutive outputs, poplibs' ContinuousReduce). Fields and scalars:
// sim/codelets/reduce_ops.h. Cycle figures: docs/cost-model.md.
//
// Arithmetic: floats accumulate in double inside a vertex and are stored in the output type
// (float partials between stages, as poplibs keeps float partials for half inputs); integers
// accumulate in their own type and wrap modulo 2^bits (numpy); an integer mean truncates.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/reduce_ops.h"
#include "sim/codelets/vector_cost.h"
#include "sim/codelets/vertex_checks.h"
#include "sim/error.h"

namespace ipusim::codelets {
namespace {

template <DType D>
using Accumulator = std::conditional_t<isFloatDType(D), double, typename Element<D>::Value>;

template <typename V>
using Unsigned = std::make_unsigned_t<V>;

// Wrapping integer arithmetic through the unsigned type (defined behaviour).
template <typename V>
V wrapAdd(V a, V b) {
  if constexpr (std::is_integral_v<V>) {
    return static_cast<V>(static_cast<Unsigned<V>>(static_cast<Unsigned<V>>(a) + static_cast<Unsigned<V>>(b)));
  } else {
    return a + b;
  }
}

template <typename V>
V wrapMul(V a, V b) {
  if constexpr (std::is_integral_v<V>) {
    // 8-bit operands promote to int; their product still fits.
    using Wide = std::conditional_t<(sizeof(V) < sizeof(unsigned)), unsigned, Unsigned<V>>;
    return static_cast<V>(static_cast<Unsigned<V>>(static_cast<Wide>(static_cast<Unsigned<V>>(a)) *
                                                    static_cast<Wide>(static_cast<Unsigned<V>>(b))));
  } else {
    return a * b;
  }
}

template <typename V>
V absolute(V x) {
  if constexpr (std::is_floating_point_v<V>) {
    return std::fabs(x);
  } else if constexpr (std::is_signed_v<V>) {
    return x < 0 ? static_cast<V>(Unsigned<V>{0} - static_cast<Unsigned<V>>(x)) : x;
  } else {
    return x;
  }
}

template <typename V>
bool isNaN(V x) {
  if constexpr (std::is_floating_point_v<V>) return std::isnan(x);
  return false;
}

template <typename V>
V lowest() {
  if constexpr (std::is_floating_point_v<V>) return -std::numeric_limits<V>::infinity();
  return std::numeric_limits<V>::lowest();
}

template <typename V>
V highest() {
  if constexpr (std::is_floating_point_v<V>) return std::numeric_limits<V>::infinity();
  return std::numeric_limits<V>::max();
}

// log(exp(a) + exp(b)) without overflow.
double logAdd(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double m = std::max(a, b);
  if (std::isinf(m)) return m;
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

// One op: its identity, how an input element enters, and how two values combine.
template <ReduceOp Op>
struct Reducer {
  template <typename V>
  static V identity() {
    if constexpr (Op == ReduceOp::Mul) return V{1};
    else if constexpr (Op == ReduceOp::Max) return lowest<V>();
    else if constexpr (Op == ReduceOp::Min) return highest<V>();
    else if constexpr (Op == ReduceOp::LogAdd) return -std::numeric_limits<V>::infinity();
    else return V{0};
  }
  template <typename V>
  static V map(V x) {
    if constexpr (Op == ReduceOp::SquareAdd) return wrapMul(x, x);
    else if constexpr (Op == ReduceOp::AbsAdd) return absolute(x);
    else return x;
  }
  template <typename V>
  static V combine(V acc, V x) {
    if constexpr (Op == ReduceOp::Mul) {
      return wrapMul(acc, x);
    } else if constexpr (Op == ReduceOp::Max || Op == ReduceOp::Min) {
      if (isNaN(acc)) return acc;  // NaN propagates, as in numpy
      if (isNaN(x)) return x;
      return Op == ReduceOp::Max ? std::max(acc, x) : std::min(acc, x);
    } else if constexpr (Op == ReduceOp::LogAdd) {
      return logAdd(acc, x);
    } else {
      return wrapAdd(acc, x);
    }
  }
};

// finish(acc / divisor) in the output's value type.
template <typename OutValue, typename Acc>
OutValue finishValue(Acc acc, double divisor, ReduceFinish finish) {
  if constexpr (std::is_floating_point_v<Acc>) {
    double v = divisor == 1.0 ? acc : acc / divisor;
    if (finish == ReduceFinish::Sqrt) v = std::sqrt(v);
    if (finish == ReduceFinish::Log) v = std::log(v);
    return static_cast<OutValue>(v);
  } else {
    Acc v = acc;
    // An integer mean truncates toward zero (onnxruntime's integer ReduceMean).
    if (divisor != 1.0 && divisor > 0) v = static_cast<Acc>(v / static_cast<Acc>(divisor));
    if (finish == ReduceFinish::None) return static_cast<OutValue>(v);
    double r = finish == ReduceFinish::Sqrt ? std::sqrt(static_cast<double>(v)) : std::log(static_cast<double>(v));
    if (!std::isfinite(r)) return OutValue{0};
    return static_cast<OutValue>(r);
  }
}

size_t elementsOf(const std::span<uint8_t>& region, size_t bytes, std::string_view codelet) {
  if (region.size() % bytes != 0) fail(codelet, "a region's size is not a whole number of elements");
  return region.size() / bytes;
}

ReduceFinish finishOf(const VertexData& data, std::string_view codelet) {
  const int64_t f = data.scalars[kReduceFinishScalar];
  if (f < 0 || f > static_cast<int64_t>(ReduceFinish::Log)) fail(codelet, "unknown finish " + std::to_string(f));
  return static_cast<ReduceFinish>(f);
}

template <ReduceOp Op, DType InType, DType OutType>
void reduceScatter(const VertexData& data, std::string_view codelet) {
  using In = Element<InType>;
  using Out = Element<OutType>;
  using Acc = Accumulator<InType>;
  using R = Reducer<Op>;
  if (data.fields.size() != 2) fail(codelet, "expects fields [in, out]");
  const auto& in = data.fields[0];
  const auto& out = data.fields[1];
  if (data.scalars.size() != kReduceFirstRegionScalar + 2 * in.size()) {
    fail(codelet, "expects an (offset, width) scalar pair per input region");
  }
  size_t total = 0;
  for (const auto& region : out) total += elementsOf(region, Out::bytes, codelet);
  std::vector<Acc> acc(total, R::template identity<Acc>());
  for (size_t r = 0; r < in.size(); ++r) {
    const int64_t offset = data.scalars[kReduceFirstRegionScalar + 2 * r];
    const int64_t width = data.scalars[kReduceFirstRegionScalar + 2 * r + 1];
    const size_t count = elementsOf(in[r], In::bytes, codelet);
    if (width <= 0 || offset < 0 || static_cast<size_t>(offset + width) > total || count % width != 0) {
      fail(codelet, "input region " + std::to_string(r) + " does not fit its output range");
    }
    const uint8_t* p = in[r].data();
    for (size_t i = 0; i < count; ++i) {
      Acc& a = acc[static_cast<size_t>(offset) + i % static_cast<size_t>(width)];
      a = R::combine(a, R::map(static_cast<Acc>(In::load(p + i * In::bytes))));
    }
  }
  const double divisor = scalarAsDouble(data.scalars[kReduceDivisorScalar]);
  const ReduceFinish finish = finishOf(data, codelet);
  size_t k = 0;
  for (const auto& region : out) {
    const size_t n = region.size() / Out::bytes;
    for (size_t i = 0; i < n; ++i, ++k) {
      Out::store(region.data() + i * Out::bytes, finishValue<typename Out::Value>(acc[k], divisor, finish));
    }
  }
}

template <ReduceOp Op, DType InType, DType OutType>
void reduceRows(const VertexData& data, std::string_view codelet) {
  using In = Element<InType>;
  using Out = Element<OutType>;
  using Acc = Accumulator<InType>;
  using R = Reducer<Op>;
  if (data.fields.size() != 2 || data.fields[0].size() != data.fields[1].size()) {
    fail(codelet, "expects fields [in, out] with paired regions");
  }
  if (data.scalars.size() != kReduceRowLengthScalar + 1) fail(codelet, "expects scalars [divisor, finish, rowLength]");
  const int64_t rowLength = data.scalars[kReduceRowLengthScalar];
  if (rowLength <= 0) fail(codelet, "row length must be positive");
  const double divisor = scalarAsDouble(data.scalars[kReduceDivisorScalar]);
  const ReduceFinish finish = finishOf(data, codelet);
  const size_t length = static_cast<size_t>(rowLength);
  for (size_t r = 0; r < data.fields[0].size(); ++r) {
    const auto& in = data.fields[0][r];
    const auto& out = data.fields[1][r];
    const size_t rows = elementsOf(out, Out::bytes, codelet);
    if (elementsOf(in, In::bytes, codelet) != rows * length) {
      fail(codelet, "input region " + std::to_string(r) + " is not " + std::to_string(rows) + " rows");
    }
    for (size_t row = 0; row < rows; ++row) {
      Acc a = R::template identity<Acc>();
      const uint8_t* p = in.data() + row * length * In::bytes;
      for (size_t i = 0; i < length; ++i) a = R::combine(a, R::map(static_cast<Acc>(In::load(p + i * In::bytes))));
      Out::store(out.data() + row * Out::bytes, finishValue<typename Out::Value>(a, divisor, finish));
    }
  }
}

// ---- cycle estimates -----------------------------------------------------------------

// Inner-loop cost: `cycles` per `lanes` input elements (lanes 1 for integers).
struct ReduceLoop {
  uint32_t cycles;
  uint32_t lanesFactor;  // multiplies the dtype's natural vector (2: poplibs' double-width accumulators)
};

// poplibs getCyclesEstimateForReduce: accumulating ops (ADD, SQUARE_ADD) use double-width
// vectors, 7 cycles per 4 floats or 14 per 8 halves; MUL/MAX/MIN 5 per 2 floats, 8 per 4
// halves; integers go through the remainder loop, 4 cycles an element (8 for int64:
// assumption, two 32-bit halves). LogAdd pays an exp and a log (poplibs' EXP and LOG table
// entries) plus a compare: 20 per 2 floats, 10 per 4 halves (assumption).
ReduceLoop scatterLoop(ReduceOp op, DType in) {
  const bool accumulating = op == ReduceOp::Add || op == ReduceOp::SquareAdd || op == ReduceOp::AbsAdd;
  if (in == DType::Float32) {
    if (op == ReduceOp::LogAdd) return {20, 1};
    return accumulating ? ReduceLoop{7, 2} : ReduceLoop{5, 1};
  }
  if (in == DType::Float16) {
    if (op == ReduceOp::LogAdd) return {10, 1};
    return accumulating ? ReduceLoop{14, 2} : ReduceLoop{8, 1};
  }
  return {in == DType::Int64 ? 8u : 4u, 1};
}

// poplibs' continuous reduce: numOutputs x (numPartials / vectorWidth), one cycle per
// vector; integers and LogAdd take the scatter loop's per-element figures.
ReduceLoop rowsLoop(ReduceOp op, DType in) {
  if (isFloatDType(in) && op != ReduceOp::LogAdd) return {1, 1};
  return scatterLoop(op, in);
}

// poplibs: 5 + 1 + 1 entry/exit and 3 + 23 to load state; per output region 27 of
// unpacking and checks; per partials region 11.
constexpr uint64_t kScatterVertexCycles = 7 + 26;
constexpr uint64_t kScatterOutRegionCycles = 27;
constexpr uint64_t kScatterInRegionCycles = 11;
// poplibs' continuous reduce: 10 + 7 call/return, 12 per output.
constexpr uint64_t kRowsVertexCycles = 17;
constexpr uint64_t kRowsPerOutputCycles = 12;

uint64_t vectors(uint64_t elements, uint64_t lanes) { return (elements + lanes - 1) / lanes; }

// Finishing per output vector: 1 cycle to scale (poplibs' scale), plus poplibs' SQRT or
// LOG table figure per vector.
uint64_t finishCycles(const Vertex& vertex, size_t outField, DType out, const Target& target) {
  if (vertex.scalars.size() <= kReduceFinishScalar) return 0;
  const double divisor = scalarAsDouble(vertex.scalars[kReduceDivisorScalar]);
  const int64_t finish = vertex.scalars[kReduceFinishScalar];
  uint64_t perVector = divisor != 1.0 ? 1 : 0;
  if (finish == static_cast<int64_t>(ReduceFinish::Sqrt)) perVector += out == DType::Float16 ? 23 : 10;
  if (finish == static_cast<int64_t>(ReduceFinish::Log)) perVector += out == DType::Float16 ? 4 : 12;
  if (perVector == 0 || outField >= vertex.fields.size()) return 0;
  uint64_t elements = 0;
  for (const Region& r : vertex.fields[outField]) elements += r.bytes / dtypeSize(out);
  return vectors(elements, laneCount(lanesOf(out), target)) * perVector;
}

std::string pairName(std::string_view prefix, ReduceOp op, DType in, DType out) {
  return std::string(prefix) + std::string(reduceOpInfo(op).name) + "<" + std::string(dtypeName(in)) + "," +
         std::string(dtypeName(out)) + ">";
}

template <ReduceOp Op, DType InType, DType OutType>
void addReducePair(CodeletRegistry& registry) {
  const ReduceLoop scatter = scatterLoop(Op, InType);
  const ReduceLoop rows = rowsLoop(Op, InType);

  Codelet s;
  s.name = pairName("Reduce", Op, InType, OutType);
  s.kernel = [name = s.name](const VertexData& data) { reduceScatter<Op, InType, OutType>(data, name); };
  s.cycles = [scatter](const Vertex& v, const Target& target) -> uint64_t {
    const uint64_t lanes = laneCount(lanesOf(InType), target) * scatter.lanesFactor;
    uint64_t cycles = kScatterVertexCycles;
    if (v.fields.size() < 2) return cycles;
    cycles += kScatterOutRegionCycles * v.fields[1].size();
    for (const Region& r : v.fields[0]) {
      cycles += kScatterInRegionCycles + vectors(r.bytes / dtypeSize(InType), lanes) * scatter.cycles;
    }
    return cycles + finishCycles(v, 1, OutType, target);
  };
  s.codeBytes = kReduceCodeBytes;
  registry.add(std::move(s));

  Codelet c;
  c.name = pairName("ReduceRows", Op, InType, OutType);
  c.kernel = [name = c.name](const VertexData& data) { reduceRows<Op, InType, OutType>(data, name); };
  c.cycles = [rows](const Vertex& v, const Target& target) -> uint64_t {
    const uint64_t lanes = laneCount(lanesOf(InType), target) * rows.lanesFactor;
    uint64_t cycles = kRowsVertexCycles;
    if (v.fields.size() < 2 || v.scalars.size() <= kReduceRowLengthScalar) return cycles;
    const uint64_t rowLength = static_cast<uint64_t>(std::max<int64_t>(1, v.scalars[kReduceRowLengthScalar]));
    for (const Region& r : v.fields[1]) {
      const uint64_t outputs = r.bytes / dtypeSize(OutType);
      cycles += outputs * (kRowsPerOutputCycles + vectors(rowLength, lanes) * rows.cycles);
    }
    return cycles + finishCycles(v, 1, OutType, target);
  };
  c.codeBytes = kReduceCodeBytes;
  registry.add(std::move(c));
}

// Every op for one (in, out) pair; LogAdd only for floats.
template <DType InType, DType OutType>
void addReduceOps(CodeletRegistry& registry) {
  addReducePair<ReduceOp::Add, InType, OutType>(registry);
  addReducePair<ReduceOp::SquareAdd, InType, OutType>(registry);
  addReducePair<ReduceOp::AbsAdd, InType, OutType>(registry);
  addReducePair<ReduceOp::Mul, InType, OutType>(registry);
  addReducePair<ReduceOp::Max, InType, OutType>(registry);
  addReducePair<ReduceOp::Min, InType, OutType>(registry);
  if constexpr (isFloatDType(InType)) addReducePair<ReduceOp::LogAdd, InType, OutType>(registry);
}

}  // namespace

void registerReduceCodelets(CodeletRegistry& registry) {
  // Same type in and out, and float16 <-> float32 for float partials of half data.
  forEachDType([&]<DType D>() {
    if constexpr (D != DType::Bool) addReduceOps<D, D>(registry);
  });
  addReduceOps<DType::Float16, DType::Float32>(registry);
  addReduceOps<DType::Float32, DType::Float16>(registry);
}

}  // namespace ipusim::codelets
