// The reader never trusts its input: every truncation, every flipped byte, every crafted
// inconsistency is one PopefError naming the file, and nothing crashes or over-allocates.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

#include "popef.pb.h"
#include "popef/popef_dump.h"
#include "popef/popef_file.h"
#include "popef_test_support.h"

using namespace ipusim;
using namespace ipusim::popef;
using popef_test::RawBlob;

// ---- allocation probe ----------------------------------------------------------------
// Replaces the global operator new to record the largest single request while armed, so
// a test can prove that a huge claimed size is refused before anything is allocated.
namespace {
std::atomic<bool> gProbeArmed{false};
std::atomic<size_t> gLargestAllocation{0};

void* allocate(size_t size) {
  if (gProbeArmed.load(std::memory_order_relaxed)) {
    size_t seen = gLargestAllocation.load(std::memory_order_relaxed);
    while (size > seen && !gLargestAllocation.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(size_t size) { return allocate(size); }
void* operator new[](size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too, or a sanitizer's own versions would pair with ours (alloc-dealloc
// mismatch under ASan).
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

const char* const kName = "t.popef";

// The message of the PopefError that decoding `bytes` throws ("" if it does not throw).
std::string decodeError(const std::string& bytes) {
  try {
    decodePopef(bytes, kName);
  } catch (const PopefError& e) {
    return e.what();
  }
  return "";
}

void expectError(const std::string& bytes, const std::string& expected) {
  CHECK(decodeError(bytes) == std::string(kName) + ": " + expected);
}

const std::string& sampleBytes() {
  static const std::string bytes = encodePopef(popef_test::sampleExecutable());
  return bytes;
}

void putU32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
}

// The sample file with its metadata, executable and fusion payloads edited as messages;
// CRCs are recomputed, so only the reader's semantic checks can object.
std::string editedSample(const std::function<void(pb::Metadata&, pb::Executable&, pb::Fusion&)>& edit) {
  std::vector<RawBlob> blobs = popef_test::splitContainer(sampleBytes());
  pb::Metadata metadata;
  pb::Executable executable;
  pb::Fusion fusion;
  REQUIRE(metadata.ParseFromString(blobs[0].payload));
  REQUIRE(executable.ParseFromString(blobs[1].payload));
  REQUIRE(fusion.ParseFromString(blobs[4].payload));
  edit(metadata, executable, fusion);
  blobs[0].payload = metadata.SerializeAsString();
  blobs[1].payload = executable.SerializeAsString();
  blobs[4].payload = fusion.SerializeAsString();
  return popef_test::joinContainer(blobs);
}

std::string editedBlobs(const std::function<void(std::vector<RawBlob>&)>& edit) {
  std::vector<RawBlob> blobs = popef_test::splitContainer(sampleBytes());
  edit(blobs);
  return popef_test::joinContainer(blobs);
}

}  // namespace

TEST_CASE("the unedited sample decodes, also through the test's own container writer") {
  CHECK(decodeError(sampleBytes()) == "");
  CHECK(popef_test::joinContainer(popef_test::splitContainer(sampleBytes())) == sampleBytes());
  CHECK(decodeError(editedSample([](auto&, auto&, auto&) {})) == "");
}

TEST_CASE("truncation at every length is a PopefError saying so") {
  const std::string& bytes = sampleBytes();
  expectError("", "not a .popef file (it is empty)");
  for (size_t n = 1; n < bytes.size(); ++n) {
    const std::string message = decodeError(bytes.substr(0, n));
    INFO("length " << n << ": " << message);
    REQUIRE(message.rfind("t.popef: truncated: ", 0) == 0);
  }
  expectError(bytes.substr(0, 5), "truncated: the file is 5 bytes, shorter than its 24-byte header");
}

TEST_CASE("flipping any single byte is caught") {
  const std::string& bytes = sampleBytes();
  for (unsigned char mask : {0x01, 0x80, 0xFF}) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::string corrupt = bytes;
      corrupt[i] = static_cast<char>(corrupt[i] ^ mask);
      const std::string message = decodeError(corrupt);
      INFO("byte " << i << " ^ " << int(mask) << ": " << message);
      REQUIRE(message.rfind("t.popef: ", 0) == 0);
      // Every part of the file is under a check of its own: the CRCs of the file header,
      // each blob header and each payload; the magic, the version and a blob's name length
      // are read before their CRC, so they are checked by value.
      const auto has = [&](const char* part) { return message.find(part) != std::string::npos; };
      const bool named = message == "t.popef: not a .popef file (bad magic bytes)" ||
                         message.rfind("t.popef: format version ", 0) == 0 ||
                         message == "t.popef: the file header is corrupt (CRC mismatch)" ||
                         (message.rfind("t.popef: blob ", 0) == 0 && has(" is corrupt (CRC mismatch)")) ||
                         (message.rfind("t.popef: blob ", 0) == 0 && has(" claims a name of ")) ||
                         (message.rfind("t.popef: truncated: blob ", 0) == 0 && has(" name needs "));
      CHECK(named);
    }
  }
}

TEST_CASE("each structural part has its own check and message") {
  std::string bytes = sampleBytes();
  auto flipped = [&](size_t at) {
    std::string s = bytes;
    s[at] = static_cast<char>(s[at] ^ 0x20);
    return s;
  };
  expectError(flipped(0), "not a .popef file (bad magic bytes)");
  expectError("hello", "not a .popef file (bad magic bytes)");
  expectError(std::string("GIF89a") + std::string(100, '\0'), "not a .popef file (bad magic bytes)");
  expectError(flipped(17), "the file header is corrupt (CRC mismatch)");  // blob count
  expectError(flipped(21), "the file header is corrupt (CRC mismatch)");  // the CRC itself
  expectError(flipped(33), "blob 0 header is corrupt (CRC mismatch)");    // a name byte
  expectError(flipped(40), "blob 0 header is corrupt (CRC mismatch)");    // payload size
  expectError(flipped(bytes.size() - 3), "blob 'fusion' is corrupt (CRC mismatch)");
  expectError(bytes + "xyz", "3 unexpected bytes follow the last blob");
}

TEST_CASE("an unsupported format version is named, with or without a valid header CRC") {
  auto blobs = popef_test::splitContainer(sampleBytes());
  expectError(popef_test::joinContainer(blobs, 2), "format version 2 is not supported (this ipusim reads 1)");
  std::string bytes = sampleBytes();
  putU32(bytes, 12, 7);
  expectError(bytes, "format version 7 is not supported (this ipusim reads 1)");
}

TEST_CASE("huge claimed counts and sizes are refused before anything is allocated") {
  auto decodeProbed = [](const std::string& bytes) {
    gLargestAllocation = 0;
    gProbeArmed = true;
    std::string message = decodeError(bytes);
    gProbeArmed = false;
    CHECK(gLargestAllocation.load() < 4096);
    return message;
  };
  const std::string prefix = "t.popef: ";

  // A header claiming 2^32 - 1 blobs, with a valid CRC.
  std::string header = popef_test::joinContainer({});
  putU32(header, 16, 0xFFFFFFFFu);
  putU32(header, 20, popef_test::referenceCrc32(header.substr(0, 20)));
  CHECK(decodeProbed(header) == prefix +
                                    "truncated: the header claims 4294967295 blobs but only 0 bytes "
                                    "follow (each blob needs at least 24)");

  // A blob whose name claims 4 GiB.
  std::string name = popef_test::joinContainer({{1, "metadata", ""}});
  putU32(name, 28, 0xFFFFFFF0u);
  CHECK(decodeProbed(name) == prefix + "blob 0 claims a name of 4294967280 bytes (the limit is 65535)");

  // A blob whose payload claims 2^63 bytes, with a valid header CRC.
  std::string payload = popef_test::joinContainer({{1, "metadata", ""}});
  const size_t sizeAt = 24 + 8 + 8;
  for (int i = 0; i < 8; ++i) payload[sizeAt + static_cast<size_t>(i)] = i == 7 ? '\x80' : '\0';
  putU32(payload, sizeAt + 12, popef_test::referenceCrc32(std::string_view(payload).substr(24, 28)));
  CHECK(decodeProbed(payload) ==
        prefix + "truncated: blob 0 'metadata' claims 9223372036854775808 bytes but 0 remain");
}

TEST_CASE("blob-level faults with valid CRCs") {
  expectError(editedBlobs([](auto& b) { b[1].type = 9; }), "blob 1 'executable' has unknown type 9");
  expectError(editedBlobs([](auto& b) { b[1].type = 0; }), "blob 1 'executable' has unknown type 0");
  expectError(editedBlobs([](auto& b) { b.erase(b.begin() + 1); }), "the Executable blob is missing");
  expectError(editedBlobs([](auto& b) { b.erase(b.begin()); }), "the Metadata blob is missing");
  expectError(editedBlobs([](auto& b) { b[0].name = "meta"; }),
              "the Metadata blob is named 'meta', expected 'metadata'");
  expectError(editedBlobs([](auto& b) { b.push_back(b[0]); }), "two Metadata blobs named 'metadata'");
  expectError(editedBlobs([](auto& b) { b.push_back(b[4]); }), "two Opaque blobs named 'fusion'");
  expectError(editedBlobs([](auto& b) { b.push_back(b[2]); }), "two TensorData blobs are named 'w'");
  expectError(editedBlobs([](auto& b) { b[2].payload.pop_back(); }),
              "TensorData blob 'w' holds 15 bytes but constant 'w' [1,4] of float32 needs 16");
  expectError(editedBlobs([](auto& b) { b[3].payload += "ab"; }),
              "TensorData blob 'w#4' holds 6 bytes but constant 'w' [2] of float16 needs 4");
  expectError(editedBlobs([](auto& b) { b.erase(b.begin() + 3); }),
              "constant 'w': TensorData blob 'w#4' is missing");
  expectError(editedBlobs([](auto& b) { b.push_back({3, "extra", "1234"}); }),
              "TensorData blob 'extra' belongs to no constant variable");
  expectError(editedBlobs([](auto& b) { b[1].payload = std::string("\x0a\x05" "ab", 4); }),
              "blob 'executable' is not a valid Executable message");
  expectError(editedBlobs([](auto& b) { b[4].payload = "\xff\xff\xff"; }),
              "blob 'fusion' is not a valid Fusion message");
  // Unknown opaque blobs are kept (PopEF opaques are free-form) and ignored.
  const std::string withOpaque = editedBlobs([](auto& b) { b.push_back({4, "vendor", "anything"}); });
  CHECK(decodeError(withOpaque) == "");
  CHECK(decodePopef(withOpaque, kName).blobs.back().name == "vendor");
}

TEST_CASE("payload faults with valid CRCs: enums, shapes, references") {
  expectError(editedSample([](auto& m, auto&, auto&) { m.clear_target(); }), "the metadata has no target");
  expectError(editedSample([](auto& m, auto&, auto&) { m.set_ipu_version("ipu21"); }),
              "ipu_version 'ipu21' differs from the target name 'ipu2'");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(1)->set_dtype(static_cast<pb::DType>(99)); }),
              "variable 1 'graph0/x' has unknown dtype 99");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(1)->set_dtype(pb::DTYPE_UNSPECIFIED); }),
              "variable 1 'graph0/x' has unknown dtype 0");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(3)->set_kind(static_cast<pb::VariableKind>(5)); }),
              "variable 3 'graph0/y' has unknown kind 5");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(1)->set_shape(1, -4); }),
              "variable 1 'graph0/x' has a negative dimension (-4)");
  expectError(editedSample([](auto&, auto& e, auto&) {
                auto* shape = e.mutable_variables(1)->mutable_shape();
                shape->Set(0, int64_t{1} << 30);
                shape->Set(1, int64_t{1} << 30);
              }),
              "variable 1 'graph0/x' has more than 2^48 elements");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(1)->add_mapping(7); }),
              "variable 1 'graph0/x' has a tile mapping of 9 numbers, not a multiple of 4");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(1)->set_mapping(0, uint64_t{1} << 33); }),
              "variable 1 'graph0/x' interval 0 tile is 8589934592, more than a 32-bit value");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(2)->clear_data_blob(); }),
              "variable 2 'w' is a constant without a TensorData blob");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(3)->set_data_blob("w"); }),
              "variable 3 'graph0/y' is not a constant but names TensorData blob 'w'");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_variables(4)->set_data_blob("w"); }),
              "TensorData blob 'w' is claimed by two constants");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_compute_sets(0)->mutable_vertices(1)->set_codelet(3); }),
              "compute set 'graph0/add' vertex 1 uses codelet 3 but there are 3");
  expectError(editedSample([](auto&, auto& e, auto&) {
                e.mutable_compute_sets(1)->mutable_vertices(0)->mutable_fields(0)->add_regions(1);
              }),
              "compute set 'graph0/relu' vertex 0 field 0 has an odd count of region numbers");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_exchanges(0)->add_copies(1); }),
              "exchange 'graph0/gather' has 11 copy numbers, not a multiple of 5");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_streams(1)->set_variable(70); }),
              "stream 1 'graph0/stream0' refers to variable 70 but there are 7");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_streams(1)->set_direction(static_cast<pb::Direction>(3)); }),
              "stream 1 'graph0/stream0' has unknown direction 3");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_streams(2)->set_shape(1, 3); }),
              "stream 2 'graph0/y' has shape [2,3] but its variable 'graph0/y' has [1,4]");
  expectError(editedSample([](auto&, auto& e, auto&) { e.mutable_streams(3)->set_anchor("graph1/y"); e.mutable_streams(3)->set_direction(pb::DIRECTION_DEVICE_TO_HOST); }),
              "two streams carry anchor 'graph1/y' in the same direction");
  expectError(editedSample([](auto&, auto& e, auto&) { e.add_tile_memory()->set_tile(1); }),
              "memory usage of tile 1 is listed twice");
  expectError(editedSample([](auto&, auto& e, auto&) { e.set_codelets(1, ""); }), "codelet 1 has no name");
}

TEST_CASE("payload faults with valid CRCs: programs and anchors") {
  auto mainSwitch = [](pb::Metadata& m) { return m.mutable_program_flow()->mutable_main()->mutable_body(1); };
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_program_flow()->clear_main(); }),
              "the metadata lacks the load or main program");
  expectError(editedSample([&](auto& m, auto&, auto&) { mainSwitch(m)->set_kind(static_cast<pb::ProgramKind>(42)); }),
              "program main/1 has unknown kind 42");
  expectError(editedSample([&](auto& m, auto&, auto&) { mainSwitch(m)->mutable_body(0)->mutable_body(1)->set_ref(9); }),
              "program main/1/0/1 refers to compute set 9 but there are 3");
  expectError(editedSample([&](auto& m, auto&, auto&) { mainSwitch(m)->set_ref(7); }),
              "program main/1 refers to variable 7 but there are 7");
  expectError(editedSample([&](auto& m, auto&, auto&) { mainSwitch(m)->set_has_default(false); }),
              "program main/1: Switch has 3 bodies, expected 2");
  expectError(editedSample([&](auto& m, auto&, auto&) { mainSwitch(m)->mutable_body(0)->mutable_body(3)->add_body(); }),
              "program main/1/0/3: Repeat has 2 bodies, expected 1");
  expectError(editedSample([&](auto& m, auto&, auto&) { m.mutable_program_flow()->mutable_main()->mutable_body(0)->add_body(); }),
              "program main/0: StreamCopy has 1 bodies, expected 0");
  expectError(editedSample([&](auto& m, auto&, auto&) { m.mutable_program_flow()->mutable_load()->mutable_body(0)->add_body(); }),
              "program load/0: Sync has 1 bodies, expected 0");
  expectError(editedSample([&](auto& m, auto&, auto&) {
                pb::Program deep;
                deep.set_kind(pb::PROGRAM_KIND_SYNC);
                for (int i = 0; i < 66; ++i) {
                  pb::Program parent;
                  parent.set_kind(pb::PROGRAM_KIND_SEQUENCE);
                  *parent.add_body() = deep;
                  deep = parent;
                }
                *m.mutable_program_flow()->mutable_load() = deep;
              }),
              [] {
                std::string path = "program load";
                for (int i = 0; i < 65; ++i) path += "/0";  // the first node past the limit
                return path + " is nested deeper than 64 levels";
              }());

  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors()->RemoveLast(); }),
              "the metadata lists 4 anchors but the executable has 5 streams");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->set_name("other"); }),
              "anchor 'other' (handle 2) does not match stream 2 'graph0/y'");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->set_handle(3); }),
              "anchor 'graph0/y' (handle 3) does not match stream 2 'graph0/y'");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->set_dtype(pb::DTYPE_INT32); }),
              "anchor 'graph0/y' has a different dtype than its variable");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->set_shape(0, 4); }),
              "anchor 'graph0/y' has a different shape than its stream");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->set_direction(pb::DIRECTION_HOST_TO_DEVICE); }),
              "anchor 'graph0/y' has a different direction than its stream");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->set_variable(1); }),
              "anchor 'graph0/y' names a different variable than its stream");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->add_programs(pb::PROGRAM_NAME_LOAD); }),
              "anchor 'graph0/y' lists programs that do not match the stream copies of load and main");
  expectError(editedSample([](auto& m, auto&, auto&) { m.mutable_anchors(2)->add_programs(static_cast<pb::ProgramName>(9)); }),
              "anchor 'graph0/y' names unknown program 9");
}

TEST_CASE("payload faults with valid CRCs: fusion") {
  expectError(editedSample([](auto&, auto&, auto& f) { f.clear_subgraphs(); }), "the fusion blob lists no subgraphs");
  expectError(editedSample([](auto&, auto&, auto& f) { f.set_index_anchor("graph0/y"); }),
              "the fusion index anchor 'graph0/y' is not an input anchor");
  expectError(editedSample([](auto&, auto&, auto& f) { f.mutable_subgraphs(1)->set_index(0); }),
              "fusion subgraph 0 is listed twice");
  expectError(editedSample([](auto&, auto&, auto& f) { f.mutable_subgraphs(1)->set_outputs(0, "graph1/z"); }),
              "fusion subgraph 1 output 'graph1/z' is not an output anchor");
  expectError(editedSample([](auto&, auto&, auto& f) { f.mutable_subgraphs(0)->set_inputs(0, "graph0/y"); }),
              "fusion subgraph 0 input 'graph0/y' is not an input anchor");
  expectError(editedSample([](auto&, auto&, auto& f) { f.mutable_subgraphs(0)->mutable_aliases(0)->set_anchor("nope"); }),
              "fusion subgraph 0 alias 'graph0/x' names unknown anchor 'nope'");
  expectError(editedSample([](auto&, auto&, auto& f) { f.mutable_subgraphs(0)->clear_precision(); }),
              "fusion subgraph 0 has no precision");
}

TEST_CASE("the IR verifier's findings become PopefErrors naming the file") {
  const std::string bytes = editedSample([](auto&, auto& e, auto&) { e.set_codelets(0, "Nope<float32>"); });
  const std::string message = decodeError(bytes);
  CHECK(message.rfind("t.popef: invalid executable: ", 0) == 0);
  CHECK(message.find("Nope<float32>") != std::string::npos);

  // A region past the end of the tile's memory.
  const std::string region = editedSample([](auto&, auto& e, auto&) {
    e.mutable_compute_sets(0)->mutable_vertices(0)->mutable_fields(0)->set_regions(0, 638970);
  });
  CHECK(decodeError(region).rfind("t.popef: invalid executable: ", 0) == 0);
}

TEST_CASE("random damage inside payloads with valid CRCs: a PopefError or a usable executable") {
  // The CRCs are recomputed after the damage, so only the payload checks and the verifier
  // stand between the bytes and the engine. Whatever decodes must dump and re-encode.
  const std::vector<RawBlob> original = popef_test::splitContainer(sampleBytes());
  uint64_t state = 0x9E3779B97F4A7C15u;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  size_t accepted = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<RawBlob> blobs = original;
    const size_t target = std::array<size_t, 3>{0, 1, 4}[next() % 3];  // metadata, executable, fusion
    std::string& payload = blobs[target].payload;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits && !payload.empty(); ++e)
      payload[next() % payload.size()] = static_cast<char>(next());
    const std::string bytes = popef_test::joinContainer(blobs);
    std::string message;
    try {
      const PopefFile file = decodePopef(bytes, kName);
      ++accepted;
      CHECK_FALSE(dumpText(file).empty());
      CHECK_FALSE(dumpJson(file).empty());
      CHECK(popef_test::difference(decodePopef(encodePopef(file.executable), kName).executable, file.executable) == "");
    } catch (const PopefError& e) {
      ++refused;
      message = e.what();
      REQUIRE(message.rfind("t.popef: ", 0) == 0);
    }
  }
  CHECK(refused > 1000);  // most damage must be noticed
  MESSAGE("accepted " << accepted << ", refused " << refused);
}
