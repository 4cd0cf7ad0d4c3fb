// Writing and reading back: decode(encode(x)) equals x field by field, the layout is the
// one docs/popef-format.md describes, and files are written atomically.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "popef/crc32.h"
#include "popef/popef_file.h"
#include "popef_test_support.h"
#include "sim/codelet.h"

using namespace ipusim;
using namespace ipusim::popef;
using popef_test::difference;
using popef_test::sampleExecutable;

namespace {

// A fresh, empty directory under the system temp directory, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("ipusim-popef-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

std::string readBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

uint32_t u32At(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

TEST_CASE("the sample executable is valid and its codelets are registered") {
  const Executable exe = sampleExecutable();
  for (const std::string& name : exe.codelets) CHECK_MESSAGE(CodeletRegistry::instance().find(name), name);
  CHECK_NOTHROW(verifyExecutable(exe));
}

TEST_CASE("the comparison used by the round trip notices every kind of change") {
  const Executable a = sampleExecutable();
  CHECK(difference(a, a).empty());
  Executable b = a;
  b.variables[2].data[3] ^= 1;
  CHECK(difference(a, b) == "variables[2].data differs");
  b = a;
  b.main.body[1].body[0].body[3].count = 4;
  CHECK(difference(a, b) == "main/1/0/3.count: 3 != 4");
  b = a;
  b.target.loadFixedSeconds = 0.25;
  CHECK(difference(a, b) == "target.loadFixedSeconds: 0.5 != 0.25");
  b = a;
  b.fusion.subgraphs[1].aliases[0].second = "graph1/y";
  CHECK(difference(a, b) == "fusion.subgraphs[1].aliases differs");
  b = a;
  b.streams[2].shape = {1, 4};
  CHECK(difference(a, b) == "streams[2].shape: [2,2] != [1,4]");
}

TEST_CASE("round trip: decode(encode(x)) equals x field by field") {
  const Executable exe = sampleExecutable();
  const std::string bytes = encodePopef(exe);
  const PopefFile file = decodePopef(bytes, "sample.popef");
  CHECK(file.formatVersion == 1);
  CHECK(difference(exe, file.executable) == "");

  // Blobs: metadata, executable, one TensorData per constant (the second "w" renamed by
  // its id), then the fusion opaque.
  REQUIRE(file.blobs.size() == 5);
  CHECK(file.blobs[0].type == BlobType::Metadata);
  CHECK(file.blobs[0].name == "metadata");
  CHECK(file.blobs[1].type == BlobType::Executable);
  CHECK(file.blobs[1].name == "executable");
  CHECK(file.blobs[2].type == BlobType::TensorData);
  CHECK(file.blobs[2].name == "w");
  CHECK(file.blobs[2].payloadBytes == 16);
  CHECK(file.blobs[3].type == BlobType::TensorData);
  CHECK(file.blobs[3].name == "w#4");
  CHECK(file.blobs[3].payloadBytes == 4);
  CHECK(file.blobs[4].type == BlobType::Opaque);
  CHECK(file.blobs[4].name == "fusion");
  auto raw = popef_test::splitContainer(bytes);
  REQUIRE(raw.size() == file.blobs.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    CHECK(file.blobs[i].payloadBytes == raw[i].payload.size());
    CHECK(file.blobs[i].crc32 == crc32(raw[i].payload));
  }
  // TensorData holds the constant's bytes verbatim.
  CHECK(raw[2].payload == std::string(exe.variables[2].data.begin(), exe.variables[2].data.end()));
  CHECK(raw[3].payload == std::string("\x00\x3C\x00\x40", 4));

  // Encoding is deterministic.
  CHECK(encodePopef(file.executable) == bytes);
}

TEST_CASE("round trip: the header layout is the documented one") {
  const std::string bytes = encodePopef(sampleExecutable());
  REQUIRE(bytes.size() > 48);
  CHECK(bytes.substr(0, 12) == std::string("IPUSIMPOPEF\0", 12));
  CHECK(u32At(bytes, 12) == 1);                          // format version
  CHECK(u32At(bytes, 16) == 5);                          // blob count
  CHECK(u32At(bytes, 20) == crc32(bytes.substr(0, 20)));  // header CRC
  CHECK(u32At(bytes, 24) == 1);                          // first blob: Metadata
  CHECK(u32At(bytes, 28) == 8);                          // its name length
  CHECK(bytes.substr(32, 8) == "metadata");
}

TEST_CASE("round trip: every target field, an unfused executable, constants only") {
  Executable exe = sampleExecutable();
  Target& t = exe.target;
  // Distinct values so a field stored in another field's slot is caught.
  t.name = "custom";
  t.tiles = 17;
  t.bytesPerTile = 4096;
  t.clockHz = 1.234567e9;
  t.workerContexts = 5;
  t.ampFp16Fp16MacsPerCycle = 101;
  t.ampFp16Fp32MacsPerCycle = 102;
  t.ampFp32MacsPerCycle = 103;
  t.vectorFp32Lanes = 104;
  t.vectorFp16Lanes = 105;
  t.localMemoryLatencyCycles = 106;
  t.exchangeBytesPerCycle = 107;
  t.exchangeFixedCycles = 108;
  t.syncCycles = 109;
  t.vertexLaunchCycles = 110;
  t.hostLinkBytesPerSecond = 1.5e10;
  t.hostTransferLatencySeconds = 2.5e-6;
  t.loadFixedSeconds = 0.75;
  exe.fusion = FusionInfo{};
  const PopefFile file = decodePopef(encodePopef(exe), "custom.popef");
  CHECK(difference(exe, file.executable) == "");
  CHECK_FALSE(file.executable.fusion.fused());
  CHECK(file.blobs.size() == 4);  // no fusion opaque when not fused

  // An empty executable (no variables, programs are empty sequences) also survives.
  Executable empty;
  empty.target = targetPreset("ipu21");
  const PopefFile emptyFile = decodePopef(encodePopef(empty), "empty.popef");
  CHECK(difference(empty, emptyFile.executable) == "");
  CHECK(emptyFile.blobs.size() == 2);
}

TEST_CASE("encode refuses an executable the reader would refuse") {
  Executable exe = sampleExecutable();
  exe.variables[2].data.pop_back();
  try {
    encodePopef(exe);
    FAIL("expected PopefError");
  } catch (const PopefError& e) {
    CHECK(std::string(e.what()) ==
          "cannot encode the executable: constant 'w' holds 15 bytes but its shape [1,4] of "
          "float32 needs 16");
  }
  exe = sampleExecutable();
  Program deep = Program::sync();
  for (int i = 0; i < 70; ++i) deep = Program::sequence({deep});
  exe.main = deep;
  CHECK_THROWS_WITH_AS(encodePopef(exe),
                       "cannot encode the executable: the program tree is nested deeper than 64 levels",
                       PopefError);
}

TEST_CASE("writePopef writes atomically and readPopef reads it back") {
  TempDir dir;
  const auto path = (dir.path / "model.popef").string();
  const Executable exe = sampleExecutable();
  writePopef(exe, path);
  CHECK(readBytes(path) == encodePopef(exe));
  const PopefFile file = readPopef(path);
  CHECK(difference(exe, file.executable) == "");

  // Overwriting replaces the file whole, and no temporary is left behind.
  Executable other = exe;
  other.fusion = FusionInfo{};
  writePopef(other, path);
  CHECK(readPopef(path).blobs.size() == 4);
  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path)) {
    CHECK(entry.path().filename() == "model.popef");
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("writePopef: an unwritable destination is a PopefError naming the path, no file left") {
  TempDir dir;
  const auto path = (dir.path / "no-such-dir" / "model.popef").string();
  try {
    writePopef(sampleExecutable(), path);
    FAIL("expected PopefError");
  } catch (const PopefError& e) {
    const std::string message = e.what();
    CHECK(message.rfind(path + ": cannot write the .popef file: ", 0) == 0);
    CHECK(message.find("No such file or directory") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(path));

  // Renaming onto a directory fails after the temporary was written: it is removed again.
  const auto dirPath = (dir.path / "occupied").string();
  std::filesystem::create_directories(dir.path / "occupied" / "child");
  CHECK_THROWS_AS(writePopef(sampleExecutable(), dirPath), PopefError);
  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path)) {
    CHECK(entry.path().filename() == "occupied");
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("readPopef: missing and unreadable files are clear PopefErrors") {
  TempDir dir;
  const auto missing = (dir.path / "absent.popef").string();
  CHECK_THROWS_WITH_AS(readPopef(missing), (missing + ": cannot open: No such file or directory").c_str(),
                       PopefError);
  CHECK_THROWS_WITH_AS(readPopef(dir.path.string()), (dir.path.string() + ": not a regular file").c_str(),
                       PopefError);
  const auto empty = (dir.path / "empty.popef").string();
  std::ofstream(empty).close();
  CHECK_THROWS_WITH_AS(readPopef(empty), (empty + ": not a .popef file (it is empty)").c_str(), PopefError);
}

TEST_CASE("round trip: names are bytes, not necessarily UTF-8") {
  Executable exe = sampleExecutable();
  const std::string odd("bad\xff\xfe utf8 \0 nul", 17);
  exe.variables[2].name = odd;  // also the TensorData blob's name
  exe.computeSets[1].name = odd;
  exe.exchanges[0].name = odd;
  exe.fusion.subgraphs[0].sourceModel = odd;
  exe.fusion.subgraphs[0].aliases[0].first = odd;
  exe.streams[1].anchor = odd;
  exe.fusion.subgraphs[0].inputs[0] = odd;
  exe.fusion.subgraphs[0].aliases[0].second = odd;
  const PopefFile file = decodePopef(encodePopef(exe), "odd.popef");
  CHECK(difference(exe, file.executable) == "");
  CHECK(file.blobs[2].name == odd);
}
