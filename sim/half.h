// IEEE 754 binary16 conversion (round to nearest even), as the IPU's f16 type.
#pragma once
#include <cstdint>

namespace ipusim {

uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);

}  // namespace ipusim
