#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "sim/worker_pool.h"

using namespace ipusim;

TEST_CASE("WorkerPool runs every item exactly once, job after job") {
  for (unsigned threads : {2u, 3u, 5u}) {
    CAPTURE(threads);
    WorkerPool pool(threads);
    CHECK(pool.threads() == threads);
    // Sizes around the thread count and large ones; back to back, so that helpers are still
    // spinning on (or finishing) one job when the next begins.
    for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{1472}, size_t{20000}}) {
      for (int repeat = 0; repeat < 20; ++repeat) {
        std::vector<std::atomic<int>> runs(count);
        pool.run(count, [&](size_t i) { runs[i].fetch_add(1); });
        size_t exactlyOnce = 0;
        for (const auto& r : runs) exactlyOnce += r.load() == 1 ? 1 : 0;
        CHECK(exactlyOnce == count);
      }
    }
  }
}

TEST_CASE("WorkerPool shares a job between threads, also after its helpers went to sleep") {
  WorkerPool pool(2);
  // Idle for longer than the spin time: the helper sleeps and must be woken by the next job.
  std::this_thread::sleep_for(WorkerPool::kSpinTime * 5);
  // Items that each take long enough that one thread alone cannot finish them all before
  // the helper wakes and joins in.
  constexpr size_t kItems = 100;
  std::vector<std::thread::id> ranOn(kItems);
  pool.run(kItems, [&](size_t i) {
    ranOn[i] = std::this_thread::get_id();
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  });
  size_t onCaller = 0;
  for (const auto& id : ranOn) onCaller += id == std::this_thread::get_id() ? 1 : 0;
  // The caller takes items from the front, the helper from the back.
  CHECK(onCaller > 0);
  CHECK(onCaller < kItems);
  CHECK(ranOn.front() == std::this_thread::get_id());
  CHECK(ranOn.back() != std::this_thread::get_id());
}
