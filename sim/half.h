// IEEE 754 binary16 conversion (round to nearest even), as the IPU's f16 type.
#pragma once
#include <cstdint>

namespace ipusim {

uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);
// Whether this CPU and its OS run F16C instructions (checked once; false off x86-64).
bool cpuHasF16c();

}  // namespace ipusim
