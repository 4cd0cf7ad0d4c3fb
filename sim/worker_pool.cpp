#include "sim/worker_pool.h"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ipusim {

namespace {

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

}  // namespace

WorkerPool::WorkerPool(unsigned threads) : helpers_(threads > 1 ? threads - 1 : 1) {
  threads_ = std::make_unique<boost::asio::thread_pool>(helpers_);
  for (unsigned h = 0; h < helpers_; ++h) boost::asio::post(*threads_, [this] { helperLoop(); });
}

WorkerPool::~WorkerPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  threads_->join();
}

bool WorkerPool::claim(bool fromFront, size_t& begin, size_t& end) {
  uint64_t range = left_.load();
  while (true) {
    const uint64_t front = range >> 32, back = range & 0xFFFFFFFFu;
    if (front >= back) return false;
    // Guided self-scheduling: a share of what is left, smaller as the job nears its end, so
    // that the threads meet the shared counter seldom yet finish together.
    const uint64_t chunk = std::max<uint64_t>(1, (back - front) / (2 * threads()));
    const uint64_t claimed = fromFront ? (front + chunk) << 32 | back : front << 32 | (back - chunk);
    if (left_.compare_exchange_weak(range, claimed)) {
      begin = fromFront ? front : back - chunk;
      end = begin + chunk;
      return true;
    }
  }
}

void WorkerPool::takeItems(bool fromFront) {
  for (size_t begin = 0, end = 0; claim(fromFront, begin, end);) {
    for (size_t i = begin; i < end; ++i) (*task_)(i);
  }
}

void WorkerPool::run(size_t count, const std::function<void(size_t)>& task) {
  if (count > 0xFFFFFFFFu) throw std::length_error("WorkerPool::run: more than 2^32 - 1 items");
  // No helper is busy and the job is closed (the end of the previous run): safe to rewrite.
  task_ = &task;
  left_.store(count);  // front 0, back count
  open_.store(true);
  generation_.fetch_add(1);
  if (sleepers_.load() != 0) generation_.notify_all();
  takeItems(true);
  // Every item is taken. Close the job, then wait for the helpers still running one. A helper
  // announces itself (busy_) before it looks at open_, and run() closes before it looks at
  // busy_ (all sequentially consistent): either run() waits for that helper, or the helper
  // sees the job closed and leaves it alone.
  open_.store(false);
  while (busy_.load() != 0) cpuRelax();
}

void WorkerPool::helperLoop() {
  uint64_t seen = 0;
  while (true) {
    // Wait for a new generation: spin first (checking the clock now and then), then sleep.
    uint64_t current = generation_.load();
    const auto spinUntil = std::chrono::steady_clock::now() + kSpinTime;
    for (unsigned spins = 0; current == seen; current = generation_.load()) {
      cpuRelax();
      if (++spins % 256 != 0) continue;
      // Yield now and then: with more threads than cores, the caller needs the core more.
      std::this_thread::yield();
      if (std::chrono::steady_clock::now() >= spinUntil) {
        sleepers_.fetch_add(1);
        generation_.wait(seen);  // returns at once when the generation has already moved on
        sleepers_.fetch_sub(1);
      }
    }
    seen = current;
    if (stop_.load()) return;
    busy_.fetch_add(1);
    if (open_.load()) takeItems(false);
    busy_.fetch_sub(1);
  }
}

}  // namespace ipusim
