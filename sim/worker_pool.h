// The host threads that share a step's tiles: the calling thread and `threads - 1` helpers run
// the items of one job together, claiming chunks of the items left, like an OpenMP parallel
// loop with guided scheduling. Between jobs the helpers spin for a bounded time before they
// sleep, so that the next step (usually a few hundred microseconds later) finds them awake: a
// helper woken per step joined late or not at all on a virtual machine
// (docs/architecture.md "Host threads").
// Engine internals (DESIGN.md section 4); results never depend on which thread runs an item.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace boost::asio {
class thread_pool;
}

namespace ipusim {

class WorkerPool {
 public:
  // How long an idle helper keeps spinning for the next job before it sleeps.
  static constexpr std::chrono::microseconds kSpinTime{2000};

  explicit WorkerPool(unsigned threads);  // threads >= 2: the caller and threads - 1 helpers
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned threads() const { return helpers_ + 1; }

  // Runs task(i) for every i in [0, count) on the caller and the helpers; returns when every
  // item has run. `task` must not throw. One job at a time: run is not reentrant.
  // count < 2^32.
  void run(size_t count, const std::function<void(size_t)>& task);

 private:
  void helperLoop();
  bool claim(bool fromFront, size_t& begin, size_t& end);
  void takeItems(bool fromFront);

  unsigned helpers_ = 0;
  std::unique_ptr<boost::asio::thread_pool> threads_;  // the helpers' threads
  // The current job; written by run() only while `open_` is false and no helper is `busy_`.
  const std::function<void(size_t)>* task_ = nullptr;
  // The items not yet taken, [front, back) as front << 32 | back. The caller takes from the
  // front and the helpers from the back, so that a tile tends to stay on the same host thread
  // from step to step (its bytes in that core's cache) while the split still balances.
  std::atomic<uint64_t> left_{0};
  std::atomic<bool> open_{false};     // helpers may take items of the current job
  std::atomic<unsigned> busy_{0};     // helpers inside takeItems
  std::atomic<uint64_t> generation_{0};  // bumped per job (and at shutdown): wakes helpers
  std::atomic<unsigned> sleepers_{0};    // helpers blocked in generation_.wait
  std::atomic<bool> stop_{false};
};

}  // namespace ipusim
