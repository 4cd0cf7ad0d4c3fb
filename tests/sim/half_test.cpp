#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "sim/half.h"

using namespace ipusim;

TEST_CASE("floatToHalf converts exact values") {
  CHECK(floatToHalf(0.0f) == 0x0000);
  CHECK(floatToHalf(-0.0f) == 0x8000);
  CHECK(floatToHalf(1.0f) == 0x3C00);
  CHECK(floatToHalf(-2.0f) == 0xC000);
  CHECK(floatToHalf(0.5f) == 0x3800);
  CHECK(floatToHalf(65504.0f) == 0x7BFF);             // largest finite half
  CHECK(floatToHalf(std::ldexp(1.0f, -14)) == 0x0400);  // smallest normal
  CHECK(floatToHalf(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(floatToHalf(std::ldexp(3.0f, -24)) == 0x0003);
}

TEST_CASE("floatToHalf rounds to nearest even") {
  // 1 + 2^-11 is half-way between 1 and 1 + 2^-10: ties to the even mantissa (1.0).
  CHECK(floatToHalf(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);
  // 1 + 3*2^-11 is half-way between 1+2^-10 (odd) and 1+2^-9 (even): rounds up.
  CHECK(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
  // Just above half-way rounds up.
  CHECK(floatToHalf(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)) == 0x3C01);
  CHECK(floatToHalf(0.1f) == 0x2E66);
  // Subnormal ties: 2.5 * 2^-24 goes to 2 (even), 3.5 * 2^-24 to 4.
  CHECK(floatToHalf(std::ldexp(2.5f, -24)) == 0x0002);
  CHECK(floatToHalf(std::ldexp(3.5f, -24)) == 0x0004);
  // Half the smallest subnormal ties to zero; a little more rounds up to it.
  CHECK(floatToHalf(std::ldexp(1.0f, -25)) == 0x0000);
  CHECK(floatToHalf(std::ldexp(1.5f, -25)) == 0x0001);
  // The largest subnormal rounding up carries into the smallest normal.
  CHECK(floatToHalf(std::ldexp(1023.75f, -24)) == 0x0400);
}

TEST_CASE("floatToHalf overflows to infinity and keeps NaN") {
  CHECK(floatToHalf(65520.0f) == 0x7C00);  // half-way to 2^16 ties up to infinity
  CHECK(floatToHalf(65519.0f) == 0x7BFF);
  CHECK(floatToHalf(1e10f) == 0x7C00);
  CHECK(floatToHalf(-1e10f) == 0xFC00);
  CHECK(floatToHalf(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(floatToHalf(-std::numeric_limits<float>::infinity()) == 0xFC00);
  const uint16_t nan = floatToHalf(std::numeric_limits<float>::quiet_NaN());
  CHECK((nan & 0x7C00) == 0x7C00);
  CHECK((nan & 0x03FF) != 0);
  CHECK(floatToHalf(1e-30f) == 0x0000);
}

TEST_CASE("halfToFloat is exact") {
  CHECK(halfToFloat(0x3C00) == 1.0f);
  CHECK(halfToFloat(0xC000) == -2.0f);
  CHECK(halfToFloat(0x7BFF) == 65504.0f);
  CHECK(halfToFloat(0x0001) == std::ldexp(1.0f, -24));
  CHECK(halfToFloat(0x03FF) == std::ldexp(1023.0f, -24));
  CHECK(halfToFloat(0x0400) == std::ldexp(1.0f, -14));
  CHECK(std::signbit(halfToFloat(0x8000)));
  CHECK(halfToFloat(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(halfToFloat(0xFC00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(halfToFloat(0x7E00)));
}

TEST_CASE("every finite half survives a round trip through float") {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto half = static_cast<uint16_t>(bits);
    if ((half & 0x7C00) == 0x7C00 && (half & 0x03FF) != 0) continue;  // NaNs
    REQUIRE(floatToHalf(halfToFloat(half)) == half);
  }
}
