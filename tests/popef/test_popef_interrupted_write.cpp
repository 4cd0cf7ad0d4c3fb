// writePopef is atomic: a writer interrupted by SIGINT half way through leaves no file under
// the final name, and an older file there stays whole (docs/popef-format.md section 5).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "popef/popef_file.h"
#include "tests/interrupted_write.h"
#include "tests/popef/popef_test_support.h"

namespace fs = std::filesystem;
using namespace ipusim;
using ipusim::popef::encodePopef;

namespace {

std::string readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a .popef writer killed by SIGINT mid-write leaves the final name untouched") {
  // A constant of 256 KiB makes the file far larger than a pipe's buffer (64 KiB), so the
  // writer is still inside write() when the signal comes.
  Executable exe = popef_test::sampleExecutable();
  Variable big;
  big.id = static_cast<uint32_t>(exe.variables.size());
  big.name = "big";
  big.dtype = DType::Float32;
  big.shape = {65536};
  big.kind = VariableKind::Constant;
  big.mapping = {{1000, 0, 0, 65536}};
  big.data.assign(65536 * 4, 0x5a);
  exe.variables.push_back(big);
  REQUIRE(encodePopef(exe).size() > 256 * 1024);

  const fs::path dir = fs::path(IPUSIM_BINARY_DIR) / "tests" / "popef-interrupted";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "model.popef").string();
  std::ofstream(path, std::ios::binary) << "the previous file";

  // The writer's temporary name (<path>.tmp.<pid>) is a FIFO: the signal lands in the write.
  const interrupt_test::InterruptedWrite r = interrupt_test::interruptMidWrite(
      [&](pid_t pid) { return path + ".tmp." + std::to_string(pid); }, 12, [&] {
        try {
          popef::writePopef(exe, path);
        } catch (...) {
          ::_exit(2);
        }
        ::_exit(0);
      });
  const std::string& temporary = r.temporary;
  CHECK(r.head == std::string("IPUSIMPOPEF\0", 12));
  CHECK_FALSE(r.finished);
  CHECK(WIFSIGNALED(r.status));
  CHECK(WTERMSIG(r.status) == SIGINT);
  // The final name still holds the previous file, whole; only the temporary is left.
  CHECK(readAll(path) == "the previous file");
  CHECK(fs::exists(temporary));

  // Uninterrupted, the same write replaces the file in one step.
  fs::remove(temporary);
  popef::writePopef(exe, path);
  CHECK(readAll(path) == popef::encodePopef(exe));
  fs::remove_all(dir);
}
