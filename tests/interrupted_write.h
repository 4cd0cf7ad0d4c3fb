// Interrupting a writer in the middle of a write, for the tests that check that an
// interrupted write leaves the previous file whole (tests/popef, tests/cli).
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>

namespace interrupt_test {

struct InterruptedWrite {
  std::string head;       // the first bytes the writer wrote
  int status = 0;         // the writer's wait status
  bool finished = false;  // it exited before the first bytes came: nothing was interrupted
  std::string temporary;  // the FIFO that stood in for its temporary file
};

// Forks a writer running `write` (which ends the process itself, with _exit or exec). Before
// the writer starts, the file it will write first, `temporaryFor(its pid)`, is made a FIFO
// holding one page, so the writer is still inside write() when this process has read the
// first `headBytes` bytes (waiting up to 60 s) and sends SIGINT, as Ctrl-C would. The caller
// removes the FIFO.
inline InterruptedWrite interruptMidWrite(const std::function<std::string(pid_t)>& temporaryFor, size_t headBytes,
                                          const std::function<void()>& write) {
  InterruptedWrite result;
  int go[2];
  if (::pipe(go) != 0) return result;
  const pid_t child = ::fork();
  if (child < 0) return result;
  if (child == 0) {
    char start = 0;
    if (::read(go[0], &start, 1) != 1) ::_exit(120);
    write();
    ::_exit(121);
  }
  result.temporary = temporaryFor(child);
  const int fifo = ::mkfifo(result.temporary.c_str(), 0600) == 0 ? ::open(result.temporary.c_str(), O_RDONLY | O_NONBLOCK) : -1;
  if (fifo >= 0) ::fcntl(fifo, F_SETPIPE_SZ, 4096);
  if (::write(go[1], "g", 1) != 1 || fifo < 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &result.status, 0);
    result.finished = true;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!result.finished && result.head.size() < headBytes && std::chrono::steady_clock::now() < deadline) {
    char buffer[64];
    const ssize_t n = ::read(fifo, buffer, std::min(sizeof buffer, headBytes - result.head.size()));
    if (n > 0) {
      result.head.append(buffer, static_cast<size_t>(n));
    } else if (::waitpid(child, &result.status, WNOHANG) == child) {
      result.finished = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  if (!result.finished) {
    ::kill(child, SIGINT);
    ::waitpid(child, &result.status, 0);
  }
  if (fifo >= 0) ::close(fifo);
  ::close(go[0]);
  ::close(go[1]);
  return result;
}

}  // namespace interrupt_test
