// The host kernels (sim/codelets/simd_kernels.h) equal the scalar definitions exactly:
// every float16 value converts as sim/half.h converts it, and the block product equals a
// fused-multiply-add loop over k for every width, height and depth of the shapes tried.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "sim/codelets/simd_kernels.h"
#include "sim/half.h"

using namespace ipusim;
namespace simd = ipusim::codelets::simd;

TEST_CASE("bulk float16 conversions agree with sim/half.h on every value") {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> floats(all.size());
  simd::halfToFloat(all.data(), floats.data(), all.size());
  size_t differences = 0;
  for (uint32_t i = 0; i < all.size(); ++i) {
    const float expected = halfToFloat(all[i]);
    if (std::isnan(expected)) {
      differences += std::isnan(floats[i]) ? 0 : 1;
    } else {
      differences += std::memcmp(&expected, &floats[i], 4) == 0 ? 0 : 1;
    }
  }
  CHECK(differences == 0);

  // Rounding: every float16 value, and halfway points between neighbours, back to half.
  std::vector<float> samples;
  for (uint32_t i = 0; i < 65536; i += 7) {
    const float v = halfToFloat(static_cast<uint16_t>(i));
    if (std::isnan(v)) continue;
    samples.push_back(v);
    samples.push_back(std::nextafter(v, INFINITY));
    samples.push_back(v * 1.0009765625f);  // half a unit in the last place of a half
  }
  samples.push_back(70000.0f);  // overflows to infinity
  samples.push_back(1e-9f);     // underflows to zero
  std::vector<uint16_t> halves(samples.size());
  simd::floatToHalf(samples.data(), halves.data(), samples.size());
  differences = 0;
  for (size_t i = 0; i < samples.size(); ++i) differences += halves[i] == floatToHalf(samples[i]) ? 0 : 1;
  CHECK(differences == 0);
}

TEST_CASE("the block product equals a fused-multiply-add loop for every shape") {
  uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(seed >> 8) / static_cast<float>(1u << 24) - 0.5f;
  };
  size_t mismatches = 0;
  for (size_t m : {1, 3, 8, 9, 17}) {
    for (size_t n = 1; n <= 70; n += (n < 40 ? 1 : 7)) {
      for (size_t k : {1, 5, 33}) {
        std::vector<float> a(m * k), b(k * n), c(m * n, -1.0f);
        for (float& x : a) x = next();
        for (float& x : b) x = next();
        simd::matMul(a.data(), b.data(), c.data(), m, k, n);
        for (size_t r = 0; r < m; ++r) {
          for (size_t j = 0; j < n; ++j) {
            float sum = 0;
            for (size_t p = 0; p < k; ++p) sum = std::fma(a[r * k + p], b[p * n + j], sum);
            mismatches += sum == c[r * n + j] ? 0 : 1;
          }
        }
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the product over half rows equals converting them first, for every shape") {
  uint32_t seed = 777;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(seed >> 8) / static_cast<float>(1u << 24) - 0.5f;
  };
  size_t mismatches = 0, products = 0;
  for (size_t m : {1, 7, 8, 16, 19}) {
    for (size_t n = 1; n <= 70; n += (n < 40 ? 1 : 7)) {
      for (size_t k : {1, 4, 33}) {
        std::vector<float> a(m * k), bFloat(k * n), viaFloat(m * n), viaHalf(m * n, -1.0f);
        std::vector<uint16_t> bHalf(k * n);
        for (float& x : a) x = next();
        for (uint16_t& x : bHalf) x = floatToHalf(next());
        simd::halfToFloat(bHalf.data(), bFloat.data(), bHalf.size());
        simd::matMul(a.data(), bFloat.data(), viaFloat.data(), m, k, n);
        simd::matMulHalfRhs(a.data(), bHalf.data(), viaHalf.data(), m, k, n);
        mismatches += std::memcmp(viaFloat.data(), viaHalf.data(), viaFloat.size() * sizeof(float)) == 0 ? 0 : 1;
        ++products;
      }
    }
  }
  CHECK(products == 5 * 44 * 3);
  CHECK(mismatches == 0);
}
