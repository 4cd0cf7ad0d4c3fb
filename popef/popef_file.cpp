// The .popef container: the byte layout of docs/popef-format.md. The payloads are
// produced and checked by popef_codec.cpp.
#include "popef/popef_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>

#include "popef/crc32.h"
#include "popef/popef_codec.h"
#include "sim/error.h"

namespace ipusim::popef {
namespace {

// "IPUSIMPOPEF" and a NUL: 12 bytes.
constexpr std::string_view kMagic{"IPUSIMPOPEF\0", 12};
constexpr uint32_t kFormatVersion = 1;
// magic, format version, blob count, header CRC.
constexpr size_t kFileHeaderBytes = 12 + 4 + 4 + 4;
// type, name length, (name), payload size, payload CRC, header CRC.
constexpr size_t kBlobHeaderFixedBytes = 4 + 4 + 8 + 4 + 4;
// Limits that bound what a hostile header can make the reader do before any CRC is
// checked. A name needs no more than 64 KiB; a model with 16 million blobs is absurd.
constexpr uint32_t kMaxNameBytes = 65535;
constexpr uint32_t kMaxBlobs = 1u << 24;

constexpr std::string_view kMetadataName = "metadata";
constexpr std::string_view kExecutableName = "executable";
constexpr std::string_view kFusionName = "fusion";

using codec::Fault;
using codec::fail;

std::string str(uint64_t v) { return std::to_string(v); }

std::string blobTypeName(BlobType t) {
  switch (t) {
    case BlobType::Metadata: return "Metadata";
    case BlobType::Executable: return "Executable";
    case BlobType::TensorData: return "TensorData";
    case BlobType::Opaque: return "Opaque";
  }
  return "Unknown";
}

// ---- little-endian fields ------------------------------------------------------------

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFFu);
}
void putU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFFu);
}

uint64_t getLE(std::string_view bytes, size_t at, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  return v;
}

// A read position that refuses to step past the end of the input.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  // `what` names the field for the truncation message.
  std::string_view take(size_t n, const std::string& what) {
    if (n > remaining())
      fail("truncated: ", what, " needs ", str(n), " bytes but ", str(remaining()), " remain");
    std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint32_t u32(const std::string& what) { return static_cast<uint32_t>(getLE(take(4, what), 0, 4)); }
  uint64_t u64(const std::string& what) { return getLE(take(8, what), 0, 8); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// ---- writing -------------------------------------------------------------------------

void appendBlob(std::string& out, BlobType type, std::string_view name, std::string_view payload) {
  if (name.size() > kMaxNameBytes)
    fail("blob name '", std::string(name.substr(0, 64)), "...' is longer than ", str(kMaxNameBytes),
         " bytes");
  size_t headerStart = out.size();
  putU32(out, static_cast<uint32_t>(type));
  putU32(out, static_cast<uint32_t>(name.size()));
  out.append(name);
  putU64(out, payload.size());
  putU32(out, crc32(payload));
  putU32(out, crc32(std::string_view(out).substr(headerStart)));
  out.append(payload);
}

std::string serialize(const google::protobuf::MessageLite& message, const char* what) {
  // protobuf cannot parse messages of 2 GiB or more, so it must not write them either.
  size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    fail("the ", what, " message is ", str(size), " bytes, more than protobuf's 2 GiB limit");
  std::string out;
  if (!message.SerializeToString(&out)) fail("protobuf could not serialise the ", what, " message");
  return out;
}

// ---- reading -------------------------------------------------------------------------

struct RawBlob {
  BlobInfo info;
  std::string_view payload;
};

// The container: header and blobs, every size and CRC checked; payloads not yet parsed.
std::vector<RawBlob> readContainer(std::string_view bytes, uint32_t& formatVersion) {
  if (bytes.empty()) fail("not a .popef file (it is empty)");
  if (bytes.size() < kMagic.size()) {
    if (bytes == kMagic.substr(0, bytes.size()))
      fail("truncated: the file is ", str(bytes.size()), " bytes, shorter than its ",
           str(kFileHeaderBytes), "-byte header");
    fail("not a .popef file (bad magic bytes)");
  }
  Cursor in(bytes);
  if (in.take(kMagic.size(), "the magic bytes") != kMagic) fail("not a .popef file (bad magic bytes)");
  formatVersion = in.u32("the file header");
  // Checked before the header CRC: another version may lay out its header differently.
  if (formatVersion != kFormatVersion)
    fail("format version ", str(formatVersion), " is not supported (this ipusim reads ",
         str(kFormatVersion), ")");
  uint32_t blobCount = in.u32("the file header");
  uint32_t headerCrc = in.u32("the file header");
  if (crc32(bytes.substr(0, kFileHeaderBytes - 4)) != headerCrc)
    fail("the file header is corrupt (CRC mismatch)");
  if (blobCount > kMaxBlobs || blobCount > in.remaining() / kBlobHeaderFixedBytes)
    fail("truncated: the header claims ", str(blobCount), " blobs but only ", str(in.remaining()),
         " bytes follow (each blob needs at least ", str(kBlobHeaderFixedBytes), ")");

  std::vector<RawBlob> blobs;
  blobs.reserve(blobCount);
  for (uint32_t i = 0; i < blobCount; ++i) {
    std::string where = "blob " + str(i);
    size_t headerStart = in.position();
    uint32_t type = in.u32(where + " header");
    uint32_t nameBytes = in.u32(where + " header");
    if (nameBytes > kMaxNameBytes)
      fail(where, " claims a name of ", str(nameBytes), " bytes (the limit is ", str(kMaxNameBytes),
           ")");
    std::string name(in.take(nameBytes, where + " name"));
    uint64_t payloadBytes = in.u64(where + " header");
    uint32_t payloadCrc = in.u32(where + " header");
    size_t crcEnd = in.position();
    uint32_t blobHeaderCrc = in.u32(where + " header");
    if (crc32(bytes.substr(headerStart, crcEnd - headerStart)) != blobHeaderCrc)
      fail(where, " header is corrupt (CRC mismatch)");
    where += " '" + name + "'";
    if (type < static_cast<uint32_t>(BlobType::Metadata) || type > static_cast<uint32_t>(BlobType::Opaque))
      fail(where, " has unknown type ", str(type));
    if (payloadBytes > in.remaining())
      fail("truncated: ", where, " claims ", str(payloadBytes), " bytes but ", str(in.remaining()),
           " remain");
    std::string_view payload = in.take(static_cast<size_t>(payloadBytes), where);
    if (crc32(payload) != payloadCrc) fail("blob '", name, "' is corrupt (CRC mismatch)");
    blobs.push_back({{static_cast<BlobType>(type), std::move(name), payloadBytes, payloadCrc}, payload});
  }
  if (in.remaining() != 0) fail(str(in.remaining()), " unexpected bytes follow the last blob");
  return blobs;
}

template <typename Message>
void parsePayload(const RawBlob& blob, Message& message, const char* messageName) {
  if (blob.payload.size() > static_cast<size_t>(INT_MAX))
    fail("blob '", blob.info.name, "' is too large for a protobuf message");
  if (!message.ParseFromArray(blob.payload.data(), static_cast<int>(blob.payload.size())))
    fail("blob '", blob.info.name, "' is not a valid ", messageName, " message");
}

PopefFile decodeChecked(std::string_view bytes) {
  PopefFile file;
  std::vector<RawBlob> blobs = readContainer(bytes, file.formatVersion);

  const RawBlob* metadataBlob = nullptr;
  const RawBlob* executableBlob = nullptr;
  const RawBlob* fusionBlob = nullptr;
  std::map<std::string, std::string_view> tensorData;
  auto claimUnique = [](const RawBlob*& slot, const RawBlob& blob, std::string_view expectedName) {
    if (blob.info.name != expectedName)
      fail("the ", blobTypeName(blob.info.type), " blob is named '", blob.info.name, "', expected '",
           std::string(expectedName), "'");
    if (slot) fail("two ", blobTypeName(blob.info.type), " blobs named '", blob.info.name, "'");
    slot = &blob;
  };
  for (const RawBlob& blob : blobs) {
    switch (blob.info.type) {
      case BlobType::Metadata: claimUnique(metadataBlob, blob, kMetadataName); break;
      case BlobType::Executable: claimUnique(executableBlob, blob, kExecutableName); break;
      case BlobType::TensorData:
        if (!tensorData.emplace(blob.info.name, blob.payload).second)
          fail("two TensorData blobs are named '", blob.info.name, "'");
        break;
      case BlobType::Opaque:
        // Opaque blobs are free-form like PopEF's; only "fusion" means something here and
        // any other is kept in the blob list for the dump.
        if (blob.info.name == kFusionName) claimUnique(fusionBlob, blob, kFusionName);
        break;
    }
    file.blobs.push_back(blob.info);
  }
  if (!metadataBlob) fail("the Metadata blob is missing");
  if (!executableBlob) fail("the Executable blob is missing");

  pb::Metadata metadata;
  pb::Executable executable;
  parsePayload(*metadataBlob, metadata, "Metadata");
  parsePayload(*executableBlob, executable, "Executable");

  Executable& exe = file.executable;
  exe.target = codec::decodeTarget(metadata);
  std::vector<std::string> dataBlobs;
  codec::decodeExecutable(executable, exe, dataBlobs);
  codec::decodeProgramsAndAnchors(metadata, exe);
  codec::attachTensorData(tensorData, dataBlobs, exe);
  if (fusionBlob) {
    pb::Fusion fusion;
    parsePayload(*fusionBlob, fusion, "Fusion");
    codec::decodeFusion(fusion, exe);
  }
  try {
    verifyExecutable(exe);
  } catch (const SimError& e) {
    fail("invalid executable: ", e.what());
  }
  return file;
}

std::string errnoText() { return std::strerror(errno); }

}  // namespace

std::string encodePopef(const Executable& exe) {
  try {
    std::vector<std::string> dataNames = codec::tensorDataNames(exe);
    pb::Metadata metadata;
    pb::Executable executable;
    codec::encodeMetadata(exe, metadata);
    codec::encodeExecutable(exe, dataNames, executable);
    std::string metadataBytes = serialize(metadata, "Metadata");
    std::string executableBytes = serialize(executable, "Executable");
    std::string fusionBytes;
    if (exe.fusion.fused()) {
      pb::Fusion fusion;
      codec::encodeFusion(exe.fusion, fusion);
      fusionBytes = serialize(fusion, "Fusion");
    }

    uint64_t blobCount = 2 + (exe.fusion.fused() ? 1 : 0);
    uint64_t totalBytes = kFileHeaderBytes + metadataBytes.size() + executableBytes.size() +
                          fusionBytes.size() + 3 * (kBlobHeaderFixedBytes + 16);
    for (size_t i = 0; i < exe.variables.size(); ++i) {
      if (dataNames[i].empty()) continue;
      ++blobCount;
      totalBytes += kBlobHeaderFixedBytes + dataNames[i].size() + exe.variables[i].data.size();
    }
    if (blobCount > kMaxBlobs) fail("the executable needs ", str(blobCount), " blobs, more than ", str(kMaxBlobs));

    std::string out;
    out.reserve(totalBytes);
    out.append(kMagic);
    putU32(out, kFormatVersion);
    putU32(out, static_cast<uint32_t>(blobCount));
    putU32(out, crc32(out));
    appendBlob(out, BlobType::Metadata, kMetadataName, metadataBytes);
    appendBlob(out, BlobType::Executable, kExecutableName, executableBytes);
    for (size_t i = 0; i < exe.variables.size(); ++i) {
      if (dataNames[i].empty()) continue;
      const std::vector<uint8_t>& data = exe.variables[i].data;
      appendBlob(out, BlobType::TensorData, dataNames[i],
                 std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    }
    if (exe.fusion.fused()) appendBlob(out, BlobType::Opaque, kFusionName, fusionBytes);
    return out;
  } catch (const Fault& e) {
    throw PopefError(std::string("cannot encode the executable: ") + e.what());
  }
}

void writePopef(const Executable& exe, const std::string& path) {
  std::string bytes = encodePopef(exe);
  // Write beside the destination and rename over it: rename is atomic within a file
  // system, so readers see either the old file or the complete new one, never a part.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto failWith = [&](const std::string& what) {
    std::string reason = errnoText();
    ::unlink(tmp.c_str());
    throw PopefError(path + ": cannot write the .popef file: " + what + ": " + reason);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::string reason = errnoText();
    throw PopefError(path + ": cannot write the .popef file: cannot create " + tmp + ": " + reason);
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      int saved = errno;
      ::close(fd);
      errno = saved;
      failWith("write to " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  // fsync before rename: otherwise a crash soon after could leave the final name pointing
  // at an empty file on some file systems.
  if (::fsync(fd) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    failWith("fsync of " + tmp);
  }
  if (::close(fd) != 0) failWith("close of " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) failWith("rename of " + tmp);
}

PopefFile decodePopef(std::string_view bytes, const std::string& sourceName) {
  try {
    return decodeChecked(bytes);
  } catch (const Fault& e) {
    throw PopefError(sourceName + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw PopefError(sourceName + ": out of memory while reading the file");
  } catch (const PopefError&) {
    throw;
  } catch (const std::exception& e) {
    // A safety net: whatever a dependency throws still reaches the user as one PopefError
    // naming the file.
    throw PopefError(sourceName + ": " + e.what());
  }
}

PopefFile readPopef(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw PopefError(path + ": cannot open: " + errnoText());
  struct ::stat st {};
  if (::fstat(fd, &st) != 0) {
    std::string reason = errnoText();
    ::close(fd);
    throw PopefError(path + ": cannot read: " + reason);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw PopefError(path + ": not a regular file");
  }
  std::string bytes;
  try {
    bytes.resize(static_cast<size_t>(st.st_size));
  } catch (const std::exception&) {
    ::close(fd);
    throw PopefError(path + ": the file is too large to read (" + str(static_cast<uint64_t>(st.st_size)) +
                     " bytes)");
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string reason = errnoText();
      ::close(fd);
      throw PopefError(path + ": cannot read: " + reason);
    }
    if (n == 0) break;  // the file shrank while we read it: decode reports the truncation
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return decodePopef(bytes, path);
}

}  // namespace ipusim::popef
