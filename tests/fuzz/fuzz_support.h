// Shared by the libFuzzer targets (tests/fuzz/*_fuzz.cpp) and their replay runner: a private
// scratch folder for readers that take a path, and the one-line check every target makes.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace ipusim::fuzz {

// A folder of this process's own under /dev/shm (memory, so writing an input per run is
// cheap) or the temporary folder, created on first use and removed at exit.
inline const std::filesystem::path& scratchDir() {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    std::filesystem::path made = base / ("ipusim-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(made);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratchDir(), ignored);
    });
    return made;
  }();
  return dir;
}

// Writes `bytes` to `name` in the scratch folder and returns its path.
inline std::string writeScratchFile(const std::string& name, std::string_view bytes) {
  const std::string path = (scratchDir() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// A reader's message must name the input: anything else is a finding. (It may quote bytes
// of the input, newlines included: the command line prints every message as one line with
// control characters escaped, tools/main.cpp.)
inline void checkMessage(const char* what, std::string_view message, std::string_view source) {
  if (message.empty() || message.find(source) == std::string_view::npos) {
    std::fprintf(stderr, "fuzz: %s error message is empty or does not name '%.*s': %.*s\n",
                 what, static_cast<int>(source.size()), source.data(),
                 static_cast<int>(message.size()), message.data());
    std::abort();
  }
}

}  // namespace ipusim::fuzz
