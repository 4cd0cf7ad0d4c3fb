#include "sim/codelets/simd_kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "sim/half.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define IPUSIM_X86_SIMD 1
#endif

namespace ipusim::codelets::simd {

namespace {

#ifdef IPUSIM_X86_SIMD
bool cpuHasSimd() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpuHasF16c();
  return has;
}

// Rows [r, r + 4) by columns [col, col + 16) of c, over all of k: 8 accumulators.
inline void block4x16(const float* a, const float* b, float* c, size_t k, size_t lda, size_t ldb, size_t ldc,
                      size_t rows) {
  __m256 acc[4][2];
  for (size_t i = 0; i < 4; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (size_t p = 0; p < k; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b + p * ldb), b1 = _mm256_loadu_ps(b + p * ldb + 8);
    for (size_t i = 0; i < rows; ++i) {
      const __m256 x = _mm256_broadcast_ss(a + i * lda + p);
      acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
    }
  }
  for (size_t i = 0; i < rows; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
  }
}

// The same for the last columns (fewer than 16), through masked loads and stores.
inline void block4xTail(const float* a, const float* b, float* c, size_t k, size_t lda, size_t ldb, size_t ldc,
                        size_t rows, size_t cols) {
  alignas(32) int32_t maskBits[16];
  for (size_t j = 0; j < 16; ++j) maskBits[j] = j < cols ? -1 : 0;
  const __m256i m0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(maskBits));
  const __m256i m1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(maskBits + 8));
  __m256 acc[4][2];
  for (size_t i = 0; i < 4; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (size_t p = 0; p < k; ++p) {
    const __m256 b0 = _mm256_maskload_ps(b + p * ldb, m0), b1 = _mm256_maskload_ps(b + p * ldb + 8, m1);
    for (size_t i = 0; i < rows; ++i) {
      const __m256 x = _mm256_broadcast_ss(a + i * lda + p);
      acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
    }
  }
  for (size_t i = 0; i < rows; ++i) {
    _mm256_maskstore_ps(c + i * ldc, m0, acc[i][0]);
    _mm256_maskstore_ps(c + i * ldc + 8, m1, acc[i][1]);
  }
}

bool cpuHasAvx512() {
  static const bool has = cpuHasSimd() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl");
  return has;
}

// Rows of the right-hand operand as 16-float vectors: from floats, or from halves converted
// on the way in (the same values a separate conversion gives, without storing them).
struct FloatRows {
  const float* b;
  size_t ldb;
  __attribute__((target("avx512f"))) __m512 load(size_t p, size_t col, __mmask16 mask) const {
    return _mm512_maskz_loadu_ps(mask, b + p * ldb + col);
  }
};

struct HalfRows {
  const uint16_t* b;
  size_t ldb;
  __attribute__((target("avx512f,avx512bw,avx512vl"))) __m512 load(size_t p, size_t col, __mmask16 mask) const {
    return _mm512_maskz_cvtph_ps(mask, _mm256_maskz_loadu_epi16(mask, b + p * ldb + col));
  }
};

// With AVX-512 (where the CPU has it): `Rows` (at most 8) rows by 32 columns, two
// accumulators a row; the columns past n are masked. The same fused multiply-adds in the same
// order as above. The row count is a template argument so that the accumulators stay in
// registers (a run-time count made the compiler keep them on the stack).
template <size_t Rows, class BRows>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void block8x32(const float* a, const BRows& b, float* c, size_t k,
                                                                    size_t lda, size_t col, size_t ldc, size_t cols) {
  const __mmask16 m0 = static_cast<__mmask16>(cols >= 16 ? 0xFFFFu : (1u << cols) - 1u);
  const __mmask16 m1 = static_cast<__mmask16>(cols >= 32 ? 0xFFFFu : cols <= 16 ? 0u : (1u << (cols - 16)) - 1u);
  __m512 acc[Rows][2];
#pragma GCC unroll 8
  for (size_t i = 0; i < Rows; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (size_t p = 0; p < k; ++p) {
    const __m512 b0 = b.load(p, col, m0), b1 = b.load(p, col + 16, m1);
#pragma GCC unroll 8
    for (size_t i = 0; i < Rows; ++i) {
      const __m512 x = _mm512_set1_ps(a[i * lda + p]);
      acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 8
  for (size_t i = 0; i < Rows; ++i) {
    _mm512_mask_storeu_ps(c + i * ldc, m0, acc[i][0]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, acc[i][1]);
  }
}

// Narrow products (n <= 16): `Rows` (at most 16) rows by up to 16 columns, one accumulator a row.
template <size_t Rows, class BRows>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void block16x16(const float* a, const BRows& b, float* c, size_t k,
                                                                     size_t lda, size_t col, size_t ldc, size_t cols) {
  const __mmask16 mask = static_cast<__mmask16>(cols >= 16 ? 0xFFFFu : (1u << cols) - 1u);
  __m512 acc[Rows];
#pragma GCC unroll 16
  for (size_t i = 0; i < Rows; ++i) acc[i] = _mm512_setzero_ps();
  for (size_t p = 0; p < k; ++p) {
    const __m512 row = b.load(p, col, mask);
#pragma GCC unroll 16
    for (size_t i = 0; i < Rows; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * lda + p]), row, acc[i]);
  }
#pragma GCC unroll 16
  for (size_t i = 0; i < Rows; ++i) _mm512_mask_storeu_ps(c + i * ldc, mask, acc[i]);
}

// Tables of the blocks by row count: entry r - 1 handles r rows.
template <class BRows>
using BlockKernel = void (*)(const float*, const BRows&, float*, size_t, size_t, size_t, size_t, size_t);

template <class BRows, size_t... R>
constexpr std::array<BlockKernel<BRows>, sizeof...(R)> panelKernels(std::index_sequence<R...>) {
  return {&block8x32<R + 1, BRows>...};
}

template <class BRows, size_t... R>
constexpr std::array<BlockKernel<BRows>, sizeof...(R)> narrowKernels(std::index_sequence<R...>) {
  return {&block16x16<R + 1, BRows>...};
}

template <class BRows>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void matMulAvx512(const float* a, const BRows& b, float* c,
                                                                       size_t m, size_t k, size_t n) {
  static constexpr auto panel = panelKernels<BRows>(std::make_index_sequence<8>());
  static constexpr auto narrow = narrowKernels<BRows>(std::make_index_sequence<16>());
  // 32-column panels of 8 rows while more than 16 columns remain, then 16 rows at a time.
  size_t col = 0;
  for (; col < n && n - col > 16; col += 32) {
    for (size_t r = 0; r < m; r += 8) {
      panel[std::min<size_t>(8, m - r) - 1](a + r * k, b, c + r * n + col, k, k, col, n, std::min<size_t>(32, n - col));
    }
  }
  if (col < n) {
    for (size_t r = 0; r < m; r += 16) {
      narrow[std::min<size_t>(16, m - r) - 1](a + r * k, b, c + r * n + col, k, k, col, n, n - col);
    }
  }
}
#endif

}  // namespace

bool vectorised() {
#ifdef IPUSIM_X86_SIMD
  return cpuHasSimd();
#else
  return false;
#endif
}

void halfToFloat(const void* half, float* out, size_t n) {
  const auto* in = static_cast<const uint8_t*>(half);
  size_t i = 0;
#ifdef IPUSIM_X86_SIMD
  if (cpuHasSimd()) {
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i))));
    }
  }
#endif
  for (; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, in + 2 * i, 2);
    out[i] = ipusim::halfToFloat(bits);
  }
}

void floatToHalf(const float* in, void* half, size_t n) {
  auto* out = static_cast<uint8_t*>(half);
  size_t i = 0;
#ifdef IPUSIM_X86_SIMD
  if (cpuHasSimd()) {
    for (; i + 8 <= n; i += 8) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i),
                       _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
  }
#endif
  for (; i < n; ++i) {
    const uint16_t bits = ipusim::floatToHalf(in[i]);
    std::memcpy(out + 2 * i, &bits, 2);
  }
}

void matMul(const float* a, const float* b, float* c, size_t m, size_t k, size_t n) {
#ifdef IPUSIM_X86_SIMD
  if (cpuHasAvx512()) {
    matMulAvx512(a, FloatRows{b, n}, c, m, k, n);
    return;
  }
  if (cpuHasSimd()) {
    for (size_t r = 0; r < m; r += 4) {
      const size_t rows = std::min<size_t>(4, m - r);
      size_t col = 0;
      for (; col + 16 <= n; col += 16) block4x16(a + r * k, b + col, c + r * n + col, k, k, n, n, rows);
      if (col < n) block4xTail(a + r * k, b + col, c + r * n + col, k, k, n, n, rows, n - col);
    }
    return;
  }
#endif
  // Portable: the same sums (in float, k in increasing order) with separate multiply-adds.
  for (size_t r = 0; r < m; ++r) {
    float* row = c + r * n;
    std::fill(row, row + n, 0.0f);
    for (size_t p = 0; p < k; ++p) {
      const float x = a[r * k + p];
      const float* bRow = b + p * n;
      for (size_t j = 0; j < n; ++j) row[j] = std::fma(x, bRow[j], row[j]);
    }
  }
}

void matMulHalfRhs(const float* a, const void* bHalf, float* c, size_t m, size_t k, size_t n) {
#ifdef IPUSIM_X86_SIMD
  if (cpuHasAvx512()) {
    matMulAvx512(a, HalfRows{static_cast<const uint16_t*>(bHalf), n}, c, m, k, n);
    return;
  }
#endif
  thread_local std::vector<float> b;
  b.resize(k * n);
  halfToFloat(bHalf, b.data(), k * n);
  matMul(a, b.data(), c, m, k, n);
}

}  // namespace ipusim::codelets::simd
