// CRC-32 as in zlib, PNG and Ethernet (reflected polynomial 0xEDB88320): the checksum of
// every .popef blob. Implemented here rather than taken from zlib to keep popef free of
// extra link dependencies; the result is bit-for-bit zlib's crc32().
#pragma once
#include <cstdint>
#include <string_view>

namespace ipusim::popef {

// CRC of `bytes`; pass the CRC of the preceding bytes as `previous` to checksum data
// piece by piece (crc32(b, crc32(a)) == crc32(a + b)).
uint32_t crc32(std::string_view bytes, uint32_t previous = 0);

}  // namespace ipusim::popef
