// libFuzzer target: the .popef reader (decodePopef) and `ipusim dump` of what it accepts.
// Each input is decoded twice: as it is (exercising the container checks: magic, version,
// sizes, CRCs) and with every CRC it holds recomputed, so that mutations get past the CRCs
// into the protobuf payloads and the executable checks. Only a PopefError naming the input
// may come out; anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>

#include "popef/crc32.h"
#include "popef/popef_dump.h"
#include "popef/popef_file.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

constexpr size_t kFileHeaderBytes = 24;
constexpr size_t kBlobFixedBytes = 24;

uint64_t readLE(const std::string& bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  return value;
}

void writeU32(std::string& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + static_cast<size_t>(i)] = static_cast<char>(value >> (8 * i));
}

// Recomputes the header CRC and, as far as the layout can be followed, each blob's payload
// and header CRCs (docs/popef-format.md sections 2 and 3).
std::string withCrcsRepaired(std::string bytes) {
  if (bytes.size() < kFileHeaderBytes) return bytes;
  writeU32(bytes, 20, ipusim::popef::crc32(std::string_view(bytes).substr(0, 20)));
  size_t at = kFileHeaderBytes;
  while (bytes.size() - at >= kBlobFixedBytes) {
    const uint64_t nameBytes = readLE(bytes, at + 4, 4);
    if (nameBytes > bytes.size() - at - kBlobFixedBytes) break;
    const size_t sizeAt = at + 8 + nameBytes;
    const uint64_t payloadBytes = readLE(bytes, sizeAt, 8);
    const size_t payloadAt = sizeAt + 16;
    if (payloadBytes > bytes.size() - payloadAt) break;
    writeU32(bytes, sizeAt + 8,
             ipusim::popef::crc32(std::string_view(bytes).substr(payloadAt, payloadBytes)));
    writeU32(bytes, sizeAt + 12, ipusim::popef::crc32(std::string_view(bytes).substr(at, sizeAt + 12 - at)));
    at = payloadAt + payloadBytes;
  }
  return bytes;
}

void decodeAndDump(const std::string& bytes) {
  const std::string source = "fuzz.popef";
  try {
    const ipusim::popef::PopefFile file = ipusim::popef::decodePopef(bytes, source);
    const std::string text = ipusim::popef::dumpText(file);
    const std::string json = ipusim::popef::dumpJson(file);
    if (text.empty() || json.empty()) __builtin_trap();
  } catch (const ipusim::popef::PopefError& e) {
    ipusim::fuzz::checkMessage("popef", e.what(), source);
  }
}

}  // namespace

// Protobuf would log every parse failure of a broken input to stderr, as ipusim's main
// does not let it (tools/main.cpp).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  decodeAndDump(bytes);
  const std::string repaired = withCrcsRepaired(bytes);
  if (repaired != bytes) decodeAndDump(repaired);
  return 0;
}
