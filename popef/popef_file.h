// The .popef container: a header, then typed, named, CRC-checked blobs (docs/popef-format.md).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/executable.h"

namespace ipusim::popef {

class PopefError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class BlobType : uint32_t { Metadata = 1, Executable = 2, TensorData = 3, Opaque = 4 };

struct BlobInfo {
  BlobType type = BlobType::Metadata;
  std::string name;
  uint64_t payloadBytes = 0;
  uint32_t crc32 = 0;
};

struct PopefFile {
  uint32_t formatVersion = 0;
  std::vector<BlobInfo> blobs;
  Executable executable;
};

// Serialises to bytes / writes atomically (temporary file, then rename).
std::string encodePopef(const Executable& exe);
void writePopef(const Executable& exe, const std::string& path);

// Never trusts its input: bounded sizes, checked CRCs, verified IR. Throws PopefError with
// a message naming the file and the fault.
PopefFile decodePopef(std::string_view bytes, const std::string& sourceName);
PopefFile readPopef(const std::string& path);

}  // namespace ipusim::popef
