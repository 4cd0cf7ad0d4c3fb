// A progress line for long work: drawn on standard error only when it is a terminal (never
// into a pipe or a log), redrawn at most four times a second, erased when done.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace ipusim::cli {

class ProgressLine {
 public:
  explicit ProgressLine(std::string command);  // "compare": lines read "compare: ..."
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // "compare: <what> <done>/<total>"; skipped when drawn less than 250 ms ago, unless done.
  void update(const std::string& what, uint64_t done, uint64_t total);
  // "compare: <text>", drawn now.
  void show(const std::string& text);
  void clear();

 private:
  std::string command_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace ipusim::cli
