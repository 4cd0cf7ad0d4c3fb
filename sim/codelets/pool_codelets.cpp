// Pooling codelets (MaxPool, AveragePool, LpPool): each output element reduces its window,
// which the lowering has gathered next to it as `window` consecutive elements (padding
// already filled with the op's neutral value). Cycle figures: docs/cost-model.md section 11.
//
// Fields and scalars (every field one region):
//   MaxPool<T>            [windows, out]; scalars [window]
//   MaxPoolIndices<T>     [windows, out, indices int64, base int64 (one per output),
//                          offsets int64 (one per window position)]; scalars [window]:
//                          indices[o] = base[o] + offsets[w] for the first w holding the
//                          maximum (padding holds the type's lowest value, so it is chosen
//                          only when no real element of the window is greater)
//   AveragePool<T>        [windows, out, divisors float32 (one per output, or empty)];
//                          scalars [window, divisor as double bits] (the scalar when the
//                          field is empty)
//   LpPool<T>             [windows, out]; scalars [window, p as double bits]
// Floats accumulate in float and round once to the output type (float16: to half).
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/vector_cost.h"
#include "sim/codelets/vertex_checks.h"
#include "sim/error.h"

namespace ipusim::codelets {
namespace {

// Bytes of machine code of a pooling codelet (assumption, as the elementwise workers').
constexpr uint32_t kPoolCodeBytes = 512;

// Cycle model (assumptions modelled on poplibs' pooling and reduction inner loops, where a
// 64-bit load and a vector max or add issue in one bundle): per vertex, per output (the
// horizontal reduction of the vector lanes, conversion, store and loop), and per natural
// vector of a window for each op. Integers go one element at a time at two cycles (load and
// max); a window with indices is scanned element by element (load, compare, select).
struct PoolCost {
  uint32_t vertexCycles = 10;
  uint32_t outputCycles = 6;
  uint32_t cyclesPerVector = 1;  // per natural vector of window elements (floats)
  uint32_t cyclesPerIntegerElement = 2;
};
constexpr PoolCost kMaxCost{10, 6, 1, 2};
constexpr PoolCost kIndicesCost{10, 6, 3, 3};  // per element: load, compare, select
constexpr PoolCost kAverageCost{10, 7, 1, 2};  // + a multiply by the reciprocal divisor
// LpPool: |x|^p accumulated. p = 1: abs and add (2 per vector); p = 2: a multiply-add
// (2 per vector); other p: poplibs' POWER figures per element (docs/cost-model.md section 7:
// 312 float32, 325 float16) plus the add.
constexpr uint32_t kLpSimpleCyclesPerVector = 2;
constexpr uint32_t kPowerCyclesFloat32 = 312;
constexpr uint32_t kPowerCyclesFloat16 = 325;

std::span<uint8_t> region(const VertexData& data, size_t field, std::string_view codelet) {
  if (field >= data.fields.size() || data.fields[field].size() != 1) {
    fail(codelet, "field " + std::to_string(field) + " must be one region");
  }
  return data.fields[field][0];
}

// The windows and the outputs of a vertex, checked against each other.
template <DType D>
struct PoolFields {
  std::span<uint8_t> windows, out;
  uint64_t window = 0, outputs = 0;
};

template <DType D>
PoolFields<D> poolFields(const VertexData& data, std::string_view codelet, size_t fieldCount, size_t scalarCountWanted) {
  if (data.fields.size() != fieldCount || data.scalars.size() != scalarCountWanted) {
    fail(codelet, "needs " + std::to_string(fieldCount) + " fields and " + std::to_string(scalarCountWanted) +
                      " scalars");
  }
  PoolFields<D> f;
  f.window = scalarCount(data.scalars, 0);
  if (f.window == 0) fail(codelet, "the window must be positive");
  f.windows = region(data, 0, codelet);
  f.out = region(data, 1, codelet);
  constexpr size_t bytes = Element<D>::bytes;
  f.outputs = f.out.size() / bytes;
  if (f.out.size() % bytes != 0 || f.windows.size() != f.outputs * f.window * bytes) {
    fail(codelet, "windows must hold window x outputs elements");
  }
  return f;
}

template <typename V>
bool isNaN(V x) {
  if constexpr (std::is_floating_point_v<V>) return std::isnan(x);
  return false;
}

template <DType D>
void maxPoolKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  const PoolFields<D> f = poolFields<D>(data, codelet, 2, 1);
  for (uint64_t o = 0; o < f.outputs; ++o) {
    const uint8_t* w = f.windows.data() + o * f.window * E::bytes;
    auto best = E::load(w);
    for (uint64_t i = 1; i < f.window && !isNaN(best); ++i) {
      const auto v = E::load(w + i * E::bytes);
      if (v > best || isNaN(v)) best = v;  // NaN propagates
    }
    E::store(f.out.data() + o * E::bytes, best);
  }
}

template <DType D>
void maxPoolIndicesKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using I = Element<DType::Int64>;
  const PoolFields<D> f = poolFields<D>(data, codelet, 5, 1);
  const std::span<uint8_t> indices = region(data, 2, codelet), base = region(data, 3, codelet),
                           offsets = region(data, 4, codelet);
  if (indices.size() != f.outputs * I::bytes || base.size() != f.outputs * I::bytes ||
      offsets.size() != f.window * I::bytes) {
    fail(codelet, "indices and base need one int64 per output, offsets one per window position");
  }
  for (uint64_t o = 0; o < f.outputs; ++o) {
    const uint8_t* w = f.windows.data() + o * f.window * E::bytes;
    uint64_t at = 0;
    auto best = E::load(w);
    for (uint64_t i = 1; i < f.window; ++i) {
      const auto v = E::load(w + i * E::bytes);
      if (v > best) {
        best = v;
        at = i;
      }
    }
    E::store(f.out.data() + o * E::bytes, best);
    I::store(indices.data() + o * I::bytes, I::load(base.data() + o * I::bytes) + I::load(offsets.data() + at * I::bytes));
  }
}

template <DType D>
void averagePoolKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  const PoolFields<D> f = poolFields<D>(data, codelet, 3, 2);
  const auto& divisorRegions = data.fields[2];
  const float* divisors = nullptr;
  std::vector<float> divisorValues;
  if (!divisorRegions.empty()) {
    const std::span<uint8_t> r = region(data, 2, codelet);
    if (r.size() != f.outputs * sizeof(float)) fail(codelet, "divisors need one float32 per output");
    divisorValues.resize(f.outputs);
    std::memcpy(divisorValues.data(), r.data(), r.size());
    divisors = divisorValues.data();
  }
  const float uniform = static_cast<float>(scalarAsDouble(data.scalars[1]));
  for (uint64_t o = 0; o < f.outputs; ++o) {
    const uint8_t* w = f.windows.data() + o * f.window * E::bytes;
    float sum = 0;
    for (uint64_t i = 0; i < f.window; ++i) sum += static_cast<float>(E::load(w + i * E::bytes));
    E::store(f.out.data() + o * E::bytes, static_cast<typename E::Value>(sum / (divisors ? divisors[o] : uniform)));
  }
}

template <DType D>
void lpPoolKernel(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  const PoolFields<D> f = poolFields<D>(data, codelet, 2, 2);
  const double p = scalarAsDouble(data.scalars[1]);
  for (uint64_t o = 0; o < f.outputs; ++o) {
    const uint8_t* w = f.windows.data() + o * f.window * E::bytes;
    float sum = 0;
    for (uint64_t i = 0; i < f.window; ++i) {
      const float v = std::fabs(static_cast<float>(E::load(w + i * E::bytes)));
      sum += p == 1.0 ? v : p == 2.0 ? v * v : static_cast<float>(std::pow(static_cast<double>(v), p));
    }
    const float result = p == 1.0   ? sum
                         : p == 2.0 ? std::sqrt(sum)
                                    : static_cast<float>(std::pow(static_cast<double>(sum), 1.0 / p));
    E::store(f.out.data() + o * E::bytes, result);
  }
}

// Worker cycles of a vertex: per output, the window's vectors (or elements) at the op's rate.
uint64_t poolCycles(const Vertex& vertex, const Target& target, DType dtype, const PoolCost& cost,
                    uint64_t cyclesPerVector, bool elementwise) {
  if (vertex.fields.size() < 2 || vertex.scalars.empty() || vertex.scalars[0] <= 0) return cost.vertexCycles;
  uint64_t outputs = 0;
  for (const Region& r : vertex.fields[1]) outputs += r.bytes / dtypeSize(dtype);
  const uint64_t window = static_cast<uint64_t>(vertex.scalars[0]);
  const uint64_t lanes = elementwise ? 1 : std::max<uint32_t>(1, laneCount(lanesOf(dtype), target));
  return cost.vertexCycles + outputs * (cost.outputCycles + (window + lanes - 1) / lanes * cyclesPerVector);
}

template <DType D>
uint64_t windowRate(const PoolCost& cost) {
  return isFloat(D) ? cost.cyclesPerVector : cost.cyclesPerIntegerElement;
}

template <DType D>
void addMaxPool(CodeletRegistry& registry) {
  Codelet c;
  c.name = "MaxPool<" + std::string(dtypeName(D)) + ">";
  c.kernel = [name = c.name](const VertexData& data) { maxPoolKernel<D>(data, name); };
  c.cycles = [](const Vertex& v, const Target& t) { return poolCycles(v, t, D, kMaxCost, windowRate<D>(kMaxCost), false); };
  c.codeBytes = kPoolCodeBytes;
  registry.add(std::move(c));

  Codelet i;
  i.name = "MaxPoolIndices<" + std::string(dtypeName(D)) + ">";
  i.kernel = [name = i.name](const VertexData& data) { maxPoolIndicesKernel<D>(data, name); };
  i.cycles = [](const Vertex& v, const Target& t) {
    return poolCycles(v, t, D, kIndicesCost, kIndicesCost.cyclesPerVector, true);
  };
  i.codeBytes = kPoolCodeBytes;
  registry.add(std::move(i));
}

template <DType D>
void addFloatPools(CodeletRegistry& registry) {
  Codelet a;
  a.name = "AveragePool<" + std::string(dtypeName(D)) + ">";
  a.kernel = [name = a.name](const VertexData& data) { averagePoolKernel<D>(data, name); };
  a.cycles = [](const Vertex& v, const Target& t) {
    return poolCycles(v, t, D, kAverageCost, kAverageCost.cyclesPerVector, false);
  };
  a.codeBytes = kPoolCodeBytes;
  registry.add(std::move(a));

  Codelet l;
  l.name = "LpPool<" + std::string(dtypeName(D)) + ">";
  l.kernel = [name = l.name](const VertexData& data) { lpPoolKernel<D>(data, name); };
  l.cycles = [](const Vertex& v, const Target& t) {
    const double p = v.scalars.size() > 1 ? scalarAsDouble(v.scalars[1]) : 2.0;
    if (p == 1.0 || p == 2.0) return poolCycles(v, t, D, kMaxCost, kLpSimpleCyclesPerVector, false);
    const uint64_t power = D == DType::Float16 ? kPowerCyclesFloat16 : kPowerCyclesFloat32;
    return poolCycles(v, t, D, kMaxCost, power + 1, true);
  };
  l.codeBytes = kPoolCodeBytes;
  registry.add(std::move(l));
}

}  // namespace

void registerPoolCodelets(CodeletRegistry& registry) {
  addMaxPool<DType::Float32>(registry);
  addMaxPool<DType::Float16>(registry);
  addMaxPool<DType::Int8>(registry);
  addMaxPool<DType::UInt8>(registry);
  addFloatPools<DType::Float32>(registry);
  addFloatPools<DType::Float16>(registry);
}

}  // namespace ipusim::codelets
