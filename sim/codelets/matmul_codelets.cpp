// Matrix-product codelets: AmpMatMul (the AMP, fp16/fp32), integer MatMul and MatMulInteger
// (vector code on one worker), and ReducePartials (partial sums from several tiles, with
// Gemm's alpha, beta and bias). Cycle models in matmul_cost.cpp; the host kernels convert
// whole blocks and multiply them with vectorised code (simd_kernels.h) so that simulating a
// large product takes seconds.
//
// Field conventions (every field one region unless said otherwise):
//   AmpMatMul<in,partials>  [lhs, rhs, out]; scalars [groups, m, k, n, lhsTransposed, rhsTransposed]
//     lhs: groups blocks of [m][k] ([k][m] when lhsTransposed); rhs: groups blocks of [k][n]
//     ([n][k] when rhsTransposed); out: regions whose concatenation is groups blocks of
//     [m][n] partials (the output's rows when the product is the output), overwritten.
//   MatMul<T>               [lhs, rhs, out]; scalars [rows, k, n, rhsTransposed]
//   MatMulInteger<a,b>      [lhs, rhs, out int32, aZero, bZero]; scalars [rows, k, n, rhsTransposed,
//                           aZero, bZero]: a non-empty zero-point field (one element, a run-time
//                           zero point) overrides its scalar
//   ReducePartials<p,o>     [out (regions), partials (one region per partial, each as long as
//                           out), bias (regions as long as out, or none)]; scalars [alpha, beta]
//     out = alpha * sum(partials) + beta * bias, alpha and beta as double bit patterns.
//     Strided form, scalars [alpha, beta, stride]: partials is two regions, the tile's own
//     partial, then the received ones, partial s starting `stride` elements after partial
//     s - 1 (poplibs' single-input reduction reads its partials so): one region, not one
//     per partial, of vertex state.
//     Row-bias form, scalars [alpha, beta, stride (0: one region per partial), rowLength,
//     firstColumn]: out's elements are consecutive elements of rows of rowLength, the first
//     at column firstColumn, and bias is one region with one element per row they touch (a
//     convolution's per-channel bias, not repeated over the output positions).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/matmul_cost.h"
#include "sim/codelets/simd_kernels.h"
#include "sim/codelets/vertex_checks.h"
#include "sim/error.h"

namespace ipusim::codelets {
namespace {

// Bytes of machine code of the matrix codelets on a tile (assumption, docs/cost-model.md:
// poplibs' AMP supervisor and worker assembly is several hundred instructions).
constexpr uint32_t kAmpCodeBytes = 1024;
constexpr uint32_t kVectorMatMulCodeBytes = 512;
constexpr uint32_t kReduceCodeBytes = 512;

// Reads `n` elements of type D from `bytes` into floats (bulk conversions, simd_kernels.h).
template <DType D>
void loadFloats(const uint8_t* bytes, size_t n, float* out) {
  if constexpr (D == DType::Float32) {
    std::memcpy(out, bytes, n * sizeof(float));
  } else {
    static_assert(D == DType::Float16);
    simd::halfToFloat(bytes, out, n);
  }
}

// sum[i] += the i-th value of `bytes`, read in place.
template <DType D>
void addFloats(const uint8_t* bytes, size_t n, float* sum) {
  if constexpr (D == DType::Float32) {
    for (size_t i = 0; i < n; ++i) {
      float value;
      std::memcpy(&value, bytes + i * sizeof(float), sizeof(float));
      sum[i] += value;
    }
  } else {
    static_assert(D == DType::Float16);
    float chunk[512];
    for (size_t at = 0; at < n; at += 512) {
      const size_t count = std::min<size_t>(512, n - at);
      simd::halfToFloat(bytes + 2 * at, chunk, count);
      for (size_t i = 0; i < count; ++i) sum[at + i] += chunk[i];
    }
  }
}

template <DType D>
void storeFloats(const float* values, size_t n, uint8_t* bytes) {
  if constexpr (D == DType::Float32) {
    std::memcpy(bytes, values, n * sizeof(float));
  } else {
    static_assert(D == DType::Float16);
    simd::floatToHalf(values, bytes, n);
  }
}

// out[c][r] = in[r][c] for a rows x cols matrix.
void transpose(const float* in, float* out, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) out[c * rows + r] = in[r * cols + c];
}

std::span<uint8_t> singleRegion(const VertexData& data, size_t field, uint64_t bytes, std::string_view codelet,
                                const char* name) {
  if (data.fields.size() <= field || data.fields[field].size() != 1) {
    fail(codelet, std::string("field '") + name + "' must be one region");
  }
  std::span<uint8_t> region = data.fields[field][0];
  if (region.size() != bytes) {
    fail(codelet, std::string("field '") + name + "' has " + std::to_string(region.size()) +
                            " bytes, the sizes say " + std::to_string(bytes));
  }
  return region;
}

// ---- AMP ----------------------------------------------------------------------------------

template <DType In, DType Partials>
void ampMatMulKernel(const VertexData& data, std::string_view codelet) {
  const uint64_t groups = scalarCount(data.scalars, 0), m = scalarCount(data.scalars, 1), k = scalarCount(data.scalars, 2),
                 n = scalarCount(data.scalars, 3);
  if (data.scalars.size() != 6 || groups == 0 || m == 0 || k == 0 || n == 0) {
    fail(codelet, "needs scalars [groups, m, k, n, lhsTransposed, rhsTransposed], all sizes positive");
  }
  const bool lhsTransposed = data.scalars[4] != 0;
  const bool rhsTransposed = data.scalars[5] != 0;
  constexpr size_t inBytes = Element<In>::bytes;
  constexpr size_t outBytes = Element<Partials>::bytes;
  const std::span<uint8_t> lhs = singleRegion(data, 0, groups * m * k * inBytes, codelet, "lhs");
  const std::span<uint8_t> rhs = singleRegion(data, 1, groups * k * n * inBytes, codelet, "rhs");
  if (data.fields.size() != 3) fail(codelet, "needs fields [lhs, rhs, out]");
  uint64_t outTotal = 0;
  for (const auto& region : data.fields[2]) outTotal += region.size();
  if (outTotal != groups * m * n * outBytes) {
    fail(codelet, "field 'out' has " + std::to_string(outTotal) + " bytes, the sizes say " +
                      std::to_string(groups * m * n * outBytes));
  }

  thread_local std::vector<float> a, b, scratch, c;
  a.resize(m * k);
  b.resize(In == DType::Float16 && !rhsTransposed ? 0 : k * n);
  scratch.resize(std::max(m * k, k * n));
  // fp32 partials in one aligned region are written by the product itself (no float copy).
  float* product = nullptr;
  if (Partials == DType::Float32 && data.fields[2].size() == 1 &&
      reinterpret_cast<uintptr_t>(data.fields[2][0].data()) % alignof(float) == 0) {
    product = reinterpret_cast<float*>(data.fields[2][0].data());
  } else {
    c.resize(groups * m * n);
    product = c.data();
  }
  for (uint64_t g = 0; g < groups; ++g) {
    loadFloats<In>(lhs.data() + g * m * k * inBytes, m * k, a.data());
    // Blocks stored [k][m] (lhs) or [n][k] (rhs) are transposed to row-major [m][k], [k][n].
    if (lhsTransposed) {
      transpose(a.data(), scratch.data(), k, m);
      std::swap(a, scratch);
      scratch.resize(std::max(m * k, k * n));
    }
    if (In == DType::Float16 && !rhsTransposed) {
      // Half rows are converted as the product reads them (no float copy of the block).
      simd::matMulHalfRhs(a.data(), rhs.data() + g * k * n * inBytes, product + g * m * n, m, k, n);
      continue;
    }
    loadFloats<In>(rhs.data() + g * k * n * inBytes, k * n, b.data());
    if (rhsTransposed) {
      transpose(b.data(), scratch.data(), n, k);
      std::swap(b, scratch);
      scratch.resize(std::max(m * k, k * n));
    }
    simd::matMul(a.data(), b.data(), product + g * m * n, m, k, n);
  }
  if (product != c.data()) return;
  // fp16 partials: the AMP accumulates a vertex's product in wider accumulators and rounds
  // once when it writes the partials (documented in docs/cost-model.md).
  const float* next = c.data();
  for (const auto& region : data.fields[2]) {
    storeFloats<Partials>(next, region.size() / outBytes, region.data());
    next += region.size() / outBytes;
  }
}

template <DType In, DType Partials>
void addAmp(CodeletRegistry& registry) {
  Codelet codelet;
  codelet.name = ampMatMulCodeletName(In, Partials);
  codelet.kernel = [name = codelet.name](const VertexData& data) { ampMatMulKernel<In, Partials>(data, name); };
  codelet.cycles = [](const Vertex& vertex, const Target& target) {
    return ampMatMulCycles(target, In, Partials, scalarCount(vertex.scalars, 0), scalarCount(vertex.scalars, 1),
                           scalarCount(vertex.scalars, 2), scalarCount(vertex.scalars, 3));
  };
  codelet.macs = [](const Vertex& vertex) {
    return scalarCount(vertex.scalars, 0) * scalarCount(vertex.scalars, 1) * scalarCount(vertex.scalars, 2) * scalarCount(vertex.scalars, 3);
  };
  codelet.peakMacsPerCycle = [](const Target& target) { return uint64_t{ampGeometry(In, Partials, target).peakMacsPerCycle}; };
  codelet.codeBytes = kAmpCodeBytes;
  codelet.usesAmp = true;
  registry.add(std::move(codelet));
}

// ---- integer matrix products on a worker -------------------------------------------------

// Wrapping (modulo 2^bits) addition and multiply-accumulate, as numpy's integer matmul.
template <typename T>
T wrapAdd(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}

template <typename T>
T wrapMulAdd(T acc, T a, T b) {
  using U = std::make_unsigned_t<T>;
  using Wide = std::conditional_t<(sizeof(U) < sizeof(unsigned)), unsigned, U>;
  return static_cast<T>(static_cast<U>(static_cast<Wide>(static_cast<U>(acc)) +
                                       static_cast<Wide>(static_cast<U>(a)) * static_cast<Wide>(static_cast<U>(b))));
}

// out[r][c] = sum_i (lhs[r][i] - aZero) * (rhs[i][c] - bZero) in Acc, wrapping.
template <DType A, DType B, DType Out>
void integerMatMulKernel(const VertexData& data, std::string_view codelet, size_t expectedScalars) {
  using Acc = typename Element<Out>::Value;
  const uint64_t rows = scalarCount(data.scalars, 0), k = scalarCount(data.scalars, 1), n = scalarCount(data.scalars, 2);
  if (data.scalars.size() != expectedScalars || rows == 0 || k == 0 || n == 0) {
    fail(codelet, "needs scalars [rows, k, n, rhsTransposed" +
                      std::string(expectedScalars == 6 ? ", aZero, bZero]" : "]") + ", all sizes positive");
  }
  const bool rhsTransposed = data.scalars[3] != 0;
  Acc aZero = expectedScalars == 6 ? static_cast<Acc>(data.scalars[4]) : Acc{0};
  Acc bZero = expectedScalars == 6 ? static_cast<Acc>(data.scalars[5]) : Acc{0};
  if (data.fields.size() == 5) {
    if (!data.fields[3].empty()) aZero = static_cast<Acc>(Element<A>::load(singleRegion(data, 3, Element<A>::bytes, codelet, "aZero").data()));
    if (!data.fields[4].empty()) bZero = static_cast<Acc>(Element<B>::load(singleRegion(data, 4, Element<B>::bytes, codelet, "bZero").data()));
  }
  const std::span<uint8_t> lhs = singleRegion(data, 0, rows * k * Element<A>::bytes, codelet, "lhs");
  const std::span<uint8_t> rhs = singleRegion(data, 1, k * n * Element<B>::bytes, codelet, "rhs");
  if (data.fields.size() != 3 && !(expectedScalars == 6 && data.fields.size() == 5)) {
    fail(codelet, "needs fields [lhs, rhs, out]" + std::string(expectedScalars == 6 ? " and optionally [aZero, bZero]" : ""));
  }
  uint64_t outTotal = 0;
  for (const auto& region : data.fields[2]) outTotal += region.size();
  if (outTotal != rows * n * Element<Out>::bytes) fail(codelet, "field 'out' does not hold rows x n elements");
  std::vector<Acc> b(k * n);  // [k][n], zero point removed
  for (uint64_t i = 0; i < k; ++i) {
    for (uint64_t c = 0; c < n; ++c) {
      const uint64_t at = rhsTransposed ? c * k + i : i * n + c;
      b[i * n + c] = static_cast<Acc>(static_cast<Acc>(Element<B>::load(rhs.data() + at * Element<B>::bytes)) - bZero);
    }
  }
  std::vector<Acc> result(rows * n, Acc{0});
  for (uint64_t r = 0; r < rows; ++r) {
    Acc* row = result.data() + r * n;
    for (uint64_t i = 0; i < k; ++i) {
      const Acc a = static_cast<Acc>(
          static_cast<Acc>(Element<A>::load(lhs.data() + (r * k + i) * Element<A>::bytes)) - aZero);
      const Acc* bRow = b.data() + i * n;
      for (uint64_t c = 0; c < n; ++c) row[c] = wrapMulAdd<Acc>(row[c], a, bRow[c]);
    }
  }
  // out: regions whose concatenation is [rows][n] (the output's rows when it is the output).
  size_t e = 0;
  for (const auto& region : data.fields[2]) {
    for (size_t i = 0; i < region.size() / Element<Out>::bytes; ++i, ++e) {
      Element<Out>::store(region.data() + i * Element<Out>::bytes, result[e]);
    }
  }
}

template <DType T>
void addVectorMatMul(CodeletRegistry& registry) {
  Codelet codelet;
  codelet.name = vectorMatMulCodeletName(T);
  codelet.kernel = [name = codelet.name](const VertexData& data) { integerMatMulKernel<T, T, T>(data, name, 4); };
  codelet.cycles = [](const Vertex& vertex, const Target&) {
    return vectorMatMulWorkerCycles(T, T, scalarCount(vertex.scalars, 0), scalarCount(vertex.scalars, 1), scalarCount(vertex.scalars, 2));
  };
  codelet.codeBytes = kVectorMatMulCodeBytes;
  registry.add(std::move(codelet));
}

template <DType A, DType B>
void addMatMulInteger(CodeletRegistry& registry) {
  Codelet codelet;
  codelet.name = matMulIntegerCodeletName(A, B);
  codelet.kernel = [name = codelet.name](const VertexData& data) {
    integerMatMulKernel<A, B, DType::Int32>(data, name, 6);
  };
  codelet.cycles = [](const Vertex& vertex, const Target&) {
    return vectorMatMulWorkerCycles(A, DType::Int32, scalarCount(vertex.scalars, 0), scalarCount(vertex.scalars, 1),
                                    scalarCount(vertex.scalars, 2));
  };
  codelet.codeBytes = kVectorMatMulCodeBytes;
  registry.add(std::move(codelet));
}

// ---- partials reduction ------------------------------------------------------------------

// Float partials accumulate in float (the accumulator registers), integers wrap in their
// own type; alpha and beta apply in double for integers, float for floats.
template <DType P, DType O>
void reducePartialsKernel(const VertexData& data, std::string_view codelet) {
  using PV = typename Element<P>::Value;
  using OV = typename Element<O>::Value;
  using Acc = std::conditional_t<std::is_floating_point_v<PV>, float, PV>;
  if (data.fields.size() != 3 || (data.scalars.size() != 2 && data.scalars.size() != 3 && data.scalars.size() != 5)) {
    fail(codelet,
         "needs fields [out, partials, bias] and scalars [alpha, beta], [alpha, beta, stride] or [alpha, beta, "
         "stride, rowLength, firstColumn]");
  }
  const bool rowBias = data.scalars.size() == 5;
  const uint64_t strideElements = data.scalars.size() >= 3 ? scalarCount(data.scalars, 2) : 0;
  const auto& outRegions = data.fields[0];
  const auto& biasRegions = data.fields[2];
  uint64_t elements = 0;
  for (const auto& region : outRegions) elements += region.size() / Element<O>::bytes;
  const uint64_t partialBytes = elements * Element<P>::bytes;
  // Every partial as a span of `partialBytes`.
  thread_local std::vector<std::span<uint8_t>> partials;
  partials.clear();
  if (data.scalars.size() == 3 || strideElements != 0) {
    const uint64_t stride = strideElements * Element<P>::bytes;
    const auto& regions = data.fields[1];
    if (regions.size() != 2 || regions[0].size() != partialBytes || stride < partialBytes ||
        regions[1].size() < partialBytes || (regions[1].size() - partialBytes) % stride != 0) {
      fail(codelet, "the strided form needs the own partial and a region of received partials `stride` apart");
    }
    partials.push_back(regions[0]);
    for (uint64_t at = 0; at + partialBytes <= regions[1].size(); at += stride) {
      partials.push_back(regions[1].subspan(at, partialBytes));
    }
  } else {
    partials.assign(data.fields[1].begin(), data.fields[1].end());
  }
  if (partials.empty()) fail(codelet, "needs at least one partial");
  for (const auto& partial : partials) {
    if (partial.size() != partialBytes) fail(codelet, "every partial must be as long as out");
  }
  uint64_t biasElements = 0;
  for (const auto& region : biasRegions) biasElements += region.size() / Element<O>::bytes;
  // biasIndex(i): the bias element of out element i.
  uint64_t rowLength = 1, firstColumn = 0;
  if (rowBias) {
    rowLength = scalarCount(data.scalars, 3);
    firstColumn = scalarCount(data.scalars, 4);
    if (rowLength == 0 || firstColumn >= rowLength) fail(codelet, "needs 0 <= firstColumn < rowLength");
    const uint64_t rows = elements == 0 ? 0 : (firstColumn + elements - 1) / rowLength + 1;
    if (!biasRegions.empty() && (biasRegions.size() != 1 || biasElements != rows)) {
      fail(codelet, "the row-bias form needs bias as one region of one element per row (" + std::to_string(rows) + ")");
    }
  } else if (!biasRegions.empty() && biasElements != elements) {
    fail(codelet, "bias must be as long as out");
  }
  const auto biasIndex = [&](uint64_t i) { return rowBias ? (firstColumn + i) / rowLength : i; };
  const double alpha = scalarAsDouble(data.scalars[0]);
  const double beta = scalarAsDouble(data.scalars[1]);
  const bool scaled = alpha != 1.0 || (!biasRegions.empty() && beta != 1.0);
  if constexpr (std::is_floating_point_v<Acc> && (O == DType::Float32 || O == DType::Float16)) {
    // Whole vectors at a time: the same float sums, in the same order, as the loop below.
    thread_local std::vector<float> sum, term;
    sum.resize(elements);
    term.resize(elements);
    loadFloats<P>(partials[0].data(), elements, sum.data());
    for (size_t p = 1; p < partials.size(); ++p) addFloats<P>(partials[p].data(), elements, sum.data());
    if (!biasRegions.empty()) {
      size_t at = 0;
      for (const auto& region : biasRegions) {
        const size_t n = region.size() / Element<O>::bytes;
        loadFloats<O>(region.data(), n, term.data() + at);
        at += n;
      }
      if (rowBias) {
        // Spread each row's value over its elements, last row first: row q's elements start
        // at or after q, so the rows still to spread are not overwritten.
        const uint64_t rows = biasElements;
        for (uint64_t q = rows; q-- > 0;) {
          const float value = term[q];
          const uint64_t begin = q == 0 ? 0 : q * rowLength - firstColumn;
          const uint64_t end = std::min<uint64_t>(elements, (q + 1) * rowLength - firstColumn);
          std::fill(term.begin() + static_cast<std::ptrdiff_t>(begin), term.begin() + static_cast<std::ptrdiff_t>(end), value);
        }
      }
      const float a = static_cast<float>(alpha), b = static_cast<float>(beta);
      if (scaled) {
        for (size_t i = 0; i < elements; ++i) sum[i] = a * sum[i] + b * term[i];
      } else {
        for (size_t i = 0; i < elements; ++i) sum[i] = sum[i] + term[i];
      }
    } else if (scaled) {
      const float a = static_cast<float>(alpha);
      for (size_t i = 0; i < elements; ++i) sum[i] = a * sum[i];
    }
    size_t at = 0;
    for (const auto& region : outRegions) {
      const size_t n = region.size() / Element<O>::bytes;
      storeFloats<O>(sum.data() + at, n, region.data());
      at += n;
    }
    return;
  }

  size_t biasRegion = 0, biasAt = 0, e = 0;
  for (const auto& region : outRegions) {
    const size_t n = region.size() / Element<O>::bytes;
    for (size_t i = 0; i < n; ++i, ++e) {
      Acc sum = static_cast<Acc>(Element<P>::load(partials[0].data() + e * Element<P>::bytes));
      for (size_t p = 1; p < partials.size(); ++p) {
        const Acc value = static_cast<Acc>(Element<P>::load(partials[p].data() + e * Element<P>::bytes));
        if constexpr (std::is_integral_v<Acc>) {
          sum = wrapAdd<Acc>(sum, value);
        } else {
          sum += value;
        }
      }
      OV result;
      if (!biasRegions.empty()) {
        OV bias;
        if (rowBias) {
          bias = Element<O>::load(biasRegions[0].data() + biasIndex(e) * Element<O>::bytes);
        } else {
          while (biasAt * Element<O>::bytes >= biasRegions[biasRegion].size()) {
            ++biasRegion;
            biasAt = 0;
          }
          bias = Element<O>::load(biasRegions[biasRegion].data() + biasAt * Element<O>::bytes);
          ++biasAt;
        }
        if constexpr (std::is_integral_v<OV>) {
          result = scaled ? static_cast<OV>(alpha * static_cast<double>(sum) + beta * static_cast<double>(bias))
                          : wrapAdd<OV>(static_cast<OV>(sum), bias);
        } else {
          result = scaled ? static_cast<OV>(static_cast<float>(alpha) * sum + static_cast<float>(beta) * bias)
                          : static_cast<OV>(sum + bias);
        }
      } else if (scaled) {
        if constexpr (std::is_integral_v<OV>) {
          result = static_cast<OV>(alpha * static_cast<double>(sum));
        } else {
          result = static_cast<OV>(static_cast<float>(alpha) * sum);
        }
      } else {
        result = static_cast<OV>(sum);
      }
      Element<O>::store(region.data() + i * Element<O>::bytes, result);
    }
  }
}

template <DType P, DType O>
void addReducePartials(CodeletRegistry& registry) {
  Codelet codelet;
  codelet.name = reducePartialsCodeletName(P, O);
  codelet.kernel = [name = codelet.name](const VertexData& data) { reducePartialsKernel<P, O>(data, name); };
  codelet.cycles = [](const Vertex& vertex, const Target& target) {
    uint64_t elements = 0;
    if (!vertex.fields.empty()) {
      for (const Region& region : vertex.fields[0]) elements += region.bytes / dtypeSize(O);
    }
    uint64_t partials = vertex.fields.size() > 1 ? vertex.fields[1].size() : 0;
    if (vertex.scalars.size() >= 3 && partials == 2 && elements > 0 && vertex.scalars[2] > 0) {
      // The strided form: the own partial, then received ones `stride` elements apart.
      const uint64_t stride = static_cast<uint64_t>(vertex.scalars[2]);
      const uint64_t received = vertex.fields[1][1].bytes / dtypeSize(P);
      partials = 1 + (received >= elements ? (received - elements) / stride + 1 : 0);
    }
    const bool bias = vertex.fields.size() > 2 && !vertex.fields[2].empty();
    const double alpha = vertex.scalars.size() > 0 ? scalarAsDouble(vertex.scalars[0]) : 1.0;
    const double beta = vertex.scalars.size() > 1 ? scalarAsDouble(vertex.scalars[1]) : 1.0;
    return reducePartialsWorkerCycles(target, P, O, elements, partials, bias, alpha != 1.0 || (bias && beta != 1.0));
  };
  codelet.codeBytes = kReduceCodeBytes;
  registry.add(std::move(codelet));
}

}  // namespace

void registerMatMulCodelets(CodeletRegistry& registry) {
  addAmp<DType::Float16, DType::Float16>(registry);
  addAmp<DType::Float16, DType::Float32>(registry);
  addAmp<DType::Float32, DType::Float32>(registry);

  addVectorMatMul<DType::Int32>(registry);
  addVectorMatMul<DType::UInt32>(registry);
  addVectorMatMul<DType::Int64>(registry);

  addMatMulInteger<DType::Int8, DType::Int8>(registry);
  addMatMulInteger<DType::Int8, DType::UInt8>(registry);
  addMatMulInteger<DType::UInt8, DType::Int8>(registry);
  addMatMulInteger<DType::UInt8, DType::UInt8>(registry);

  addReducePartials<DType::Float32, DType::Float32>(registry);
  addReducePartials<DType::Float32, DType::Float16>(registry);
  addReducePartials<DType::Float16, DType::Float16>(registry);
  addReducePartials<DType::Float16, DType::Float32>(registry);
  addReducePartials<DType::Int32, DType::Int32>(registry);
  addReducePartials<DType::UInt32, DType::UInt32>(registry);
  addReducePartials<DType::Int64, DType::Int64>(registry);
}

}  // namespace ipusim::codelets
