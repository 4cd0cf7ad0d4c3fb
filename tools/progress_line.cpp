#include "tools/progress_line.h"

#include <iostream>

#include "tools/command.h"

namespace ipusim::cli {

ProgressLine::ProgressLine(std::string command)
    : command_(std::move(command)), enabled_(stderrIsTerminal()) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(const std::string& what, uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && now - last_ < std::chrono::milliseconds(250) && done != total) return;
  last_ = now;
  show(what + " " + std::to_string(done) + "/" + std::to_string(total));
}

void ProgressLine::show(const std::string& text) {
  if (!enabled_) return;
  std::cerr << "\r\033[K" << command_ << ": " << text << std::flush;
  shown_ = true;
}

void ProgressLine::clear() {
  if (shown_) std::cerr << "\r\033[K" << std::flush;
  shown_ = false;
}

}  // namespace ipusim::cli
