#include "sim/half.h"

#include <bit>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define IPUSIM_F16C 1
#endif

namespace ipusim {

// cpuid rather than __builtin_cpu_supports("f16c"), which clang 14 does not know: F16C is
// CPUID.1:ECX bit 29, and, being VEX-encoded, needs the OS to save the AVX state (OSXSAVE and
// XCR0 bits 1 and 2).
bool cpuHasF16c() {
#ifdef IPUSIM_F16C
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    if ((ecx & bit_OSXSAVE) == 0 || (ecx & bit_AVX) == 0 || (ecx & bit_F16C) == 0) return false;
    unsigned xcr0Low = 0, xcr0High = 0;
    __asm__("xgetbv" : "=a"(xcr0Low), "=d"(xcr0High) : "c"(0));
    return (xcr0Low & 0x6u) == 0x6u;
  }();
  return has;
#else
  return false;
#endif
}

#ifdef IPUSIM_F16C
namespace {

// The CPU's F16C conversions where it has them (checked once): the same results as the
// portable code below, which only host speed distinguishes (signalling NaN halves, which the
// hardware would quieten, take the portable path).
bool hasF16c() { return cpuHasF16c(); }

__attribute__((target("f16c"))) uint16_t floatToHalfF16c(float value) {
  return static_cast<uint16_t>(_cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

__attribute__((target("f16c"))) float halfToFloatF16c(uint16_t bits) { return _cvtsh_ss(bits); }

}  // namespace
#endif

// binary32: 1 sign, 8 exponent (bias 127), 23 mantissa bits.
// binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
uint16_t floatToHalf(float value) {
#ifdef IPUSIM_F16C
  if (hasF16c()) return floatToHalfF16c(value);
#endif
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t exponent = (bits >> 23) & 0xFFu;
  uint32_t mantissa = bits & 0x7FFFFFu;

  if (exponent == 0xFFu) {
    if (mantissa == 0) return sign | 0x7C00u;  // infinity
    // NaN: keep the top payload bits and force the quiet bit so it stays a NaN.
    return static_cast<uint16_t>(sign | 0x7E00u | (mantissa >> 13));
  }

  const int32_t halfExponent = static_cast<int32_t>(exponent) - 127 + 15;
  if (halfExponent >= 0x1F) return sign | 0x7C00u;  // overflow rounds to infinity

  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the full significand right, rounding to nearest even.
    if (halfExponent < -10) return sign;  // below half the smallest subnormal
    mantissa |= 0x800000u;                // implicit leading one
    const uint32_t shift = static_cast<uint32_t>(14 - halfExponent);
    uint32_t result = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);  // a carry lands in the exponent: correct
  }

  uint32_t result = (static_cast<uint32_t>(halfExponent) << 10) | (mantissa >> 13);
  const uint32_t remainder = mantissa & 0x1FFFu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;
  // A carry out of the mantissa bumps the exponent; from the top binade it becomes infinity.
  return static_cast<uint16_t>(sign | result);
}

float halfToFloat(uint16_t bits) {
#ifdef IPUSIM_F16C
  if ((bits & 0x7C00u) != 0x7C00u && hasF16c()) return halfToFloatF16c(bits);
#endif
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  uint32_t mantissa = bits & 0x3FFu;

  if (exponent == 0x1Fu) {
    return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  }
  if (exponent == 0) {
    if (mantissa == 0) return std::bit_cast<float>(sign);
    // Subnormal half: normalise it, every one is a normal float.
    int32_t floatExponent = 127 - 15 + 1;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --floatExponent;
    }
    mantissa &= 0x3FFu;
    return std::bit_cast<float>(sign | (static_cast<uint32_t>(floatExponent) << 23) |
                                (mantissa << 13));
  }
  return std::bit_cast<float>(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

}  // namespace ipusim
