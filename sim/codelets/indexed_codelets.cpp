// Indexed elementwise codelets: output element e = op(operands at their index of e), the
// operands read through broadcast/strided index patterns (sim/codelets/indexed_operands.h).
// They carry the elementwise halves of Softmax, LogSoftmax, Hardmax, the normalisations,
// LRN and Einsum. Each op is one row of a table: operand count, parameter count, function,
// cost. Floats compute in float and round once on store (float16 as the IPU's f16 ops);
// integers wrap. Cycle figures: docs/cost-model.md.
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/indexed_operands.h"
#include "sim/codelets/reduce_ops.h"
#include "sim/codelets/vector_cost.h"
#include "sim/codelets/vertex_checks.h"
#include "sim/error.h"

namespace ipusim::codelets {
namespace {

template <typename V>
using Unsigned = std::make_unsigned_t<V>;

// What an op sees: its operand values, its parameters and the output element's flat index.
template <typename V, size_t K>
struct OpInputs {
  V value[K == 0 ? 1 : K];
  std::span<const int64_t> params;
  uint64_t element;
  double param(size_t i) const { return scalarAsDouble(params[i]); }
};

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
  if constexpr (std::is_same_v<V, bool>) {
    return a && b;
  } else if constexpr (std::is_integral_v<V>) {
    using Wide = std::conditional_t<(sizeof(V) < sizeof(unsigned)), unsigned, Unsigned<V>>;
    return static_cast<V>(static_cast<Unsigned<V>>(static_cast<Wide>(static_cast<Unsigned<V>>(a)) *
                                                    static_cast<Wide>(static_cast<Unsigned<V>>(b))));
  } else {
    return a * b;
  }
}

// ---- the ops ---------------------------------------------------------------------------

struct CopyOp {  // a view: transpose, diagonal, broadcast
  static constexpr size_t kOperands = 1, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return in.value[0]; }
};
struct MulOp {  // einsum's product
  static constexpr size_t kOperands = 2, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return wrapMul(in.value[0], in.value[1]); }
};
struct AddOp {  // a long CumSum's piece scans plus their carries
  static constexpr size_t kOperands = 2, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return wrapAdd(in.value[0], in.value[1]); }
};
struct SubOp {  // x - mean
  static constexpr size_t kOperands = 2, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return in.value[0] - in.value[1]; }
};
struct DivOp {  // softmax: e / sum
  static constexpr size_t kOperands = 2, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return in.value[0] / in.value[1]; }
};
struct SoftmaxExpOp {  // exp(x - max)
  static constexpr size_t kOperands = 2, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return std::exp(in.value[0] - in.value[1]); }
};
struct LogSoftmaxOp {  // x - max - log(sum of exp(x - max))
  static constexpr size_t kOperands = 3, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return in.value[0] - in.value[1] - std::log(in.value[2]); }
};
// 1 / sqrt(var + eps), or 1 / (sqrt(var) + eps) when param 1 is non-zero
// (MeanVarianceNormalization adds its epsilon to the standard deviation).
struct InvStdDevOp {
  static constexpr size_t kOperands = 1, kParams = 2;
  template <typename V, typename In>
  static V apply(const In& in) {
    const V eps = static_cast<V>(in.param(0));
    return in.params[1] != 0 ? V{1} / (std::sqrt(in.value[0]) + eps) : V{1} / std::sqrt(in.value[0] + eps);
  }
};
struct NormScaleOp {  // (x - mean) * invStdDev * scale
  static constexpr size_t kOperands = 3, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return in.value[0] * in.value[1] * in.value[2]; }
};
struct NormAffineOp {  // (x - mean) * invStdDev * scale + bias
  static constexpr size_t kOperands = 4, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return in.value[0] * in.value[1] * in.value[2] + in.value[3]; }
};
struct BatchNormScaleOp {  // scale / sqrt(var + eps), one per channel
  static constexpr size_t kOperands = 2, kParams = 1;
  template <typename V, typename In>
  static V apply(const In& in) { return in.value[0] / std::sqrt(in.value[1] + static_cast<V>(in.param(0))); }
};
struct BatchNormApplyOp {  // (x - mean) * coefficient + bias
  static constexpr size_t kOperands = 4, kParams = 0;
  template <typename V, typename In>
  static V apply(const In& in) { return (in.value[0] - in.value[1]) * in.value[2] + in.value[3]; }
};
// LRN over channels: x / (bias + alpha / size * sum of x^2 over the window)^beta, where the
// window is channels [c - floor((size-1)/2), c + ceil((size-1)/2)] within [0, C). The single
// operand is x itself (identity pattern) with its slice widened by the window.
// params: [alpha, beta, bias (double bits), size, channels, spatial]
struct LrnOp {
  static constexpr size_t kOperands = 1, kParams = 6;
};

// ---- kernels ----------------------------------------------------------------------------

struct ParsedVertex {
  uint64_t firstElement = 0;
  std::vector<IndexPattern> patterns;
  std::vector<size_t> sliceElements;
  size_t outElements = 0;
};

ParsedVertex parse(const VertexData& data, size_t operands, size_t params, std::span<const size_t> bytes,
                   std::string_view codelet) {
  if (data.fields.size() != operands + 1) fail(codelet, "expects " + std::to_string(operands + 1) + " fields");
  for (const auto& field : data.fields) {
    if (field.size() != 1) fail(codelet, "expects one region per field");
  }
  ParsedVertex v;
  size_t at = params;
  if (data.scalars.size() < params + 1) fail(codelet, "missing scalars");
  v.firstElement = static_cast<uint64_t>(data.scalars[at++]);
  for (size_t k = 0; k < operands; ++k) {
    IndexPattern p;
    if (!readIndexPattern(data.scalars, at, p)) fail(codelet, "malformed index pattern of operand " + std::to_string(k));
    if (data.fields[k][0].size() % bytes[k] != 0) fail(codelet, "operand region is not whole elements");
    v.patterns.push_back(std::move(p));
    v.sliceElements.push_back(data.fields[k][0].size() / bytes[k]);
  }
  if (at != data.scalars.size()) fail(codelet, "unexpected trailing scalars");
  if (data.fields[operands][0].size() % bytes[operands] != 0) fail(codelet, "output region is not whole elements");
  v.outElements = data.fields[operands][0].size() / bytes[operands];
  return v;
}

// Position of operand k's element for output element e within its slice (checked).
size_t slicePosition(const ParsedVertex& v, size_t k, uint64_t e, std::string_view codelet) {
  const int64_t position = static_cast<int64_t>(v.patterns[k].index(e)) - v.patterns[k].sliceFirst;
  if (position < 0 || static_cast<size_t>(position) >= v.sliceElements[k]) {
    fail(codelet, "operand " + std::to_string(k) + " index of element " + std::to_string(e) + " is outside its slice");
  }
  return static_cast<size_t>(position);
}

// Operand k is stored as In_k and the output as Out; all compute in Out's value type (float
// for both float types, so a float16 operand mixed with float32 ones loses nothing).
template <class Op, DType Out, DType... In>
void indexedKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<Out>;
  using V = typename E::Value;
  constexpr size_t K = sizeof...(In);
  static_assert(K == Op::kOperands, "one element type per operand");
  const size_t bytes[] = {Element<In>::bytes..., E::bytes};
  using Loader = V (*)(const uint8_t*);
  const Loader loaders[] = {+[](const uint8_t* p) { return static_cast<V>(Element<In>::load(p)); }...};
  const ParsedVertex v = parse(data, K, Op::kParams, bytes, codelet);
  uint8_t* out = data.fields[K][0].data();
  OpInputs<V, K> in{};
  in.params = data.scalars.subspan(0, Op::kParams);
  for (size_t i = 0; i < v.outElements; ++i) {
    const uint64_t e = v.firstElement + i;
    for (size_t k = 0; k < K; ++k) {
      in.value[k] = loaders[k](data.fields[k][0].data() + slicePosition(v, k, e, codelet) * bytes[k]);
    }
    in.element = e;
    E::store(out + i * E::bytes, Op::template apply<V>(in));
  }
}

// Hardmax: out[e] = 1 if e's position along the axis equals its argmax index, else 0.
// params: [axisSize, inner]; operand 0: the int64 argmax indices, broadcast over the axis.
template <DType D>
void hardmaxKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using Index = Element<DType::Int64>;
  const size_t bytes[] = {Index::bytes, E::bytes};
  const ParsedVertex v = parse(data, 1, 2, bytes, codelet);
  const int64_t axisSize = data.scalars[0], inner = data.scalars[1];
  if (axisSize <= 0 || inner <= 0) fail(codelet, "axis size and inner size must be positive");
  for (size_t i = 0; i < v.outElements; ++i) {
    const uint64_t e = v.firstElement + i;
    const int64_t position = static_cast<int64_t>(e / static_cast<uint64_t>(inner) % static_cast<uint64_t>(axisSize));
    const int64_t argmax = Index::load(data.fields[0][0].data() + slicePosition(v, 0, e, codelet) * Index::bytes);
    E::store(data.fields[1][0].data() + i * E::bytes, static_cast<typename E::Value>(position == argmax ? 1 : 0));
  }
}

template <DType D>
void lrnKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  const size_t bytes[] = {E::bytes, E::bytes};
  const ParsedVertex v = parse(data, 1, LrnOp::kParams, bytes, codelet);
  const float alpha = static_cast<float>(scalarAsDouble(data.scalars[0]));
  const float beta = static_cast<float>(scalarAsDouble(data.scalars[1]));
  const float bias = static_cast<float>(scalarAsDouble(data.scalars[2]));
  const int64_t size = data.scalars[3], channels = data.scalars[4], spatial = data.scalars[5];
  if (size <= 0 || channels <= 0 || spatial <= 0) fail(codelet, "size, channels and spatial must be positive");
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  const uint8_t* x = data.fields[0][0].data();
  for (size_t i = 0; i < v.outElements; ++i) {
    const uint64_t e = v.firstElement + i;
    const int64_t c = static_cast<int64_t>(e / static_cast<uint64_t>(spatial) % static_cast<uint64_t>(channels));
    const int64_t self = static_cast<int64_t>(slicePosition(v, 0, e, codelet));
    float sum = 0;
    for (int64_t d = -before; d <= after; ++d) {
      if (c + d < 0 || c + d >= channels) continue;
      const int64_t p = self + d * spatial;
      if (p < 0 || static_cast<size_t>(p) >= v.sliceElements[0]) fail(codelet, "LRN window leaves the slice");
      const float value = E::load(x + static_cast<size_t>(p) * E::bytes);
      sum += value * value;
    }
    const float center = E::load(x + static_cast<size_t>(self) * E::bytes);
    E::store(data.fields[1][0].data() + i * E::bytes,
             center / std::pow(bias + alpha / static_cast<float>(size) * sum, beta));
  }
}

// ---- table ------------------------------------------------------------------------------

// Inner-loop cycles per natural vector (floats) or per element (integers), built from
// poplibs' elementwise figures of the ops each fuses (docs/cost-model.md).
struct IndexedCost {
  uint32_t float32, float16, integer;
};

// poplibs' broadcast vertices (BroadcastVectorInner2D and friends) have a 2D vertex
// overhead like UnaryOp2D's.
constexpr uint32_t kIndexedVertexCycles = 20;

// Cost by the output's type; a mixed-type signature pays a conversion cycle per vector
// (assumption: poplibs' half/float conversions are one instruction per vector).
template <DType Out>
std::function<uint64_t(const Vertex&, const Target&)> indexedCycles(const IndexedCost& cost, size_t outField,
                                                                    bool mixed) {
  const uint32_t perVector = Out == DType::Float32   ? cost.float32
                             : Out == DType::Float16 ? cost.float16
                                                     : cost.integer;
  return vectorCycles({kIndexedVertexCycles, 0, perVector + (mixed ? 1u : 0u), lanesOf(Out)}, outField,
                      dtypeSize(Out));
}

// "Op<T>" when every field has type T, else "Op<in_0,...,in_{K-1},out>".
template <DType Out, DType... In>
std::string signatureName(std::string_view op) {
  const bool uniform = ((In == Out) && ...);
  std::string name(op);
  name += '<';
  if (!uniform) {
    for (DType t : {In...}) {
      name += dtypeName(t);
      name += ',';
    }
  }
  name += dtypeName(Out);
  name += '>';
  return name;
}

template <class Op, DType Out, DType... In>
void addSignature(CodeletRegistry& registry, std::string_view op, const IndexedCost& cost) {
  Codelet codelet;
  codelet.name = signatureName<Out, In...>(op);
  codelet.kernel = [name = codelet.name](const VertexData& data) { indexedKernel<Op, Out, In...>(data, name); };
  codelet.cycles = indexedCycles<Out>(cost, Op::kOperands, !((In == Out) && ...));
  codelet.codeBytes = kElementwiseCodeBytes;
  registry.add(std::move(codelet));
}

template <class Op, DType D, size_t... I>
void addUniform(CodeletRegistry& registry, std::string_view op, const IndexedCost& cost, std::index_sequence<I...>) {
  addSignature<Op, D, (static_cast<void>(I), D)...>(registry, op, cost);
}

// Every field of type D.
template <class Op, DType D>
void addIndexed(CodeletRegistry& registry, std::string_view op, const IndexedCost& cost) {
  addUniform<Op, D>(registry, op, cost, std::make_index_sequence<Op::kOperands>{});
}

template <class Op>
void addFloatIndexed(CodeletRegistry& registry, std::string_view op, const IndexedCost& cost) {
  addIndexed<Op, DType::Float32>(registry, op, cost);
  addIndexed<Op, DType::Float16>(registry, op, cost);
}

template <DType D>
void addHardmaxAndLrn(CodeletRegistry& registry) {
  Codelet hardmax;
  hardmax.name = "HardmaxOneHot<" + std::string(dtypeName(D)) + ">";
  hardmax.kernel = [name = hardmax.name](const VertexData& data) { hardmaxKernel<D>(data, name); };
  // A divide and modulo for the axis position, a compare and a select: 10 cycles an
  // element (assumption).
  hardmax.cycles = vectorCycles({kIndexedVertexCycles, 0, 10, Lanes::One}, 1, dtypeSize(D));
  hardmax.codeBytes = kElementwiseCodeBytes;
  registry.add(std::move(hardmax));

  Codelet lrn;
  lrn.name = "LRN<" + std::string(dtypeName(D)) + ">";
  lrn.kernel = [name = lrn.name](const VertexData& data) { lrnKernel<D>(data, name); };
  // Per element: a multiply-add per window position (2 cycles) and a pow and divide
  // (poplibs' LOG + EXP + DIV figures, about 30 cycles) (assumption).
  lrn.cycles = [](const Vertex& v, const Target&) -> uint64_t {
    uint64_t cycles = kIndexedVertexCycles;
    if (v.fields.size() < 2 || v.scalars.size() < 4) return cycles;
    const uint64_t window = static_cast<uint64_t>(std::max<int64_t>(1, v.scalars[3]));
    for (const Region& r : v.fields[1]) cycles += r.bytes / dtypeSize(D) * (2 * window + 30);
    return cycles;
  };
  lrn.codeBytes = kElementwiseCodeBytes;
  registry.add(std::move(lrn));
}

}  // namespace

void registerIndexedCodelets(CodeletRegistry& registry) {
  // A copy is one natural vector a cycle (64-bit loads and stores), an element a cycle for
  // integers and bool.
  forEachDType([&]<DType D>() { addIndexed<CopyOp, D>(registry, "IndexedCopy", {1, 1, 1}); });
  // Mul: poplibs' binary figures (3 per vector, 7 per integer, 30 per int64).
  addIndexed<MulOp, DType::Float32>(registry, "IndexedMul", {3, 3, 7});
  addIndexed<MulOp, DType::Float16>(registry, "IndexedMul", {3, 3, 7});
  addIndexed<MulOp, DType::Int8>(registry, "IndexedMul", {3, 3, 7});
  addIndexed<MulOp, DType::UInt8>(registry, "IndexedMul", {3, 3, 7});
  addIndexed<MulOp, DType::Int32>(registry, "IndexedMul", {3, 3, 7});
  addIndexed<MulOp, DType::UInt32>(registry, "IndexedMul", {3, 3, 7});
  addIndexed<MulOp, DType::Int64>(registry, "IndexedMul", {3, 3, 30});
  addFloatIndexed<SubOp>(registry, "IndexedSub", {3, 3, 0});
  // Add: poplibs' binary figures (3 per vector, 7 per integer, 11 per int64).
  addIndexed<AddOp, DType::Float32>(registry, "IndexedAdd", {3, 3, 7});
  addIndexed<AddOp, DType::Float16>(registry, "IndexedAdd", {3, 3, 7});
  addIndexed<AddOp, DType::Int32>(registry, "IndexedAdd", {3, 3, 7});
  addIndexed<AddOp, DType::UInt32>(registry, "IndexedAdd", {3, 3, 7});
  addIndexed<AddOp, DType::Int64>(registry, "IndexedAdd", {3, 3, 11});
  addFloatIndexed<DivOp>(registry, "IndexedDiv", {10, 21, 0});
  // Sub then EXP (6 per 2 floats, 4 per 4 halves).
  addFloatIndexed<SoftmaxExpOp>(registry, "SoftmaxExp", {9, 7, 0});
  // Two subs and a LOG (12 per 2 floats, 4 per 4 halves).
  addFloatIndexed<LogSoftmaxOp>(registry, "LogSoftmaxOut", {18, 10, 0});
  // Add, SQRT (10 / 23) and a reciprocal (6 / 15).
  addFloatIndexed<InvStdDevOp>(registry, "InvStdDev", {19, 41, 0});
  addFloatIndexed<NormScaleOp>(registry, "NormScale", {6, 6, 0});
  addFloatIndexed<NormAffineOp>(registry, "NormAffine", {9, 9, 0});
  // Add, SQRT and DIV (10 / 21).
  addFloatIndexed<BatchNormScaleOp>(registry, "BatchNormScale", {23, 47, 0});
  addFloatIndexed<BatchNormApplyOp>(registry, "BatchNormApply", {9, 9, 0});
  // float16 data with float32 statistics and intermediates (as popnn keeps float statistics
  // for half activations): the signatures the normalisation and softmax lowerings use.
  constexpr DType F32 = DType::Float32, F16 = DType::Float16;
  addSignature<SubOp, F32, F16, F32>(registry, "IndexedSub", {3, 3, 0});
  addSignature<MulOp, F32, F16, F16>(registry, "IndexedMul", {3, 3, 0});  // einsum's float16 products
  addSignature<MulOp, F32, F32, F16>(registry, "IndexedMul", {3, 3, 0});
  addSignature<DivOp, F16, F32, F32>(registry, "IndexedDiv", {10, 21, 0});
  addSignature<SoftmaxExpOp, F32, F16, F32>(registry, "SoftmaxExp", {9, 7, 0});
  addSignature<LogSoftmaxOp, F16, F16, F32, F32>(registry, "LogSoftmaxOut", {18, 10, 0});
  addSignature<NormScaleOp, F16, F32, F32, F16>(registry, "NormScale", {6, 6, 0});
  addSignature<NormAffineOp, F16, F32, F32, F16, F16>(registry, "NormAffine", {9, 9, 0});
  addSignature<BatchNormScaleOp, F32, F16, F16>(registry, "BatchNormScale", {23, 47, 0});
  addSignature<BatchNormApplyOp, F16, F16, F16, F32, F16>(registry, "BatchNormApply", {9, 9, 0});
  forEachDType([&]<DType D>() {
    if constexpr (isFloatDType(D)) addHardmaxAndLrn<D>(registry);
  });
}

}  // namespace ipusim::codelets
