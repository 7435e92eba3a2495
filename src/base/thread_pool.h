// ThreadPool: a fixed set of worker threads that run one parallel loop at a time, with the
// calling thread taking part. There is no global pool: the runtime owns one and passes it
// down explicitly, so two engines can run on disjoint threads.
//
// Workers spin briefly after a loop (the next one usually follows within microseconds in
// the token loop), then sleep on a condition variable: an idle pool uses no CPU.
// ParallelFor must be called from one thread at a time (the owner); it is not reentrant.
// Cost: one wake-up per loop. Each thread starts on its own contiguous range of tasks,
// claimed through a counter on its own cache line, then takes what is left of the others'
// ranges (so a late or slow thread does not hold the loop up); workers report completion
// on their own lines. No cache line is written by every thread, which kept a loop's fixed
// cost growing with the thread count (a decoded token runs ~400 loops).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace pocket {

class ThreadPool {
 public:
  // n_threads >= 1 counts the caller: ThreadPool(1) runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(task, thread) for every task in [0, n_tasks); thread in [0, size()). Returns
  // when all tasks are done.
  template <typename Fn>
  void ParallelFor(int64_t n_tasks, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    Run(
        n_tasks, [](void* ctx, int64_t task, int thread) { (*static_cast<F*>(ctx))(task, thread); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // The number of hardware threads, at least 1.
  static int HardwareThreads();

 private:
  using TaskFn = void (*)(void* ctx, int64_t task, int thread);
  void Run(int64_t n_tasks, TaskFn fn, void* ctx);
  void WorkerLoop(int thread);
  void RunTasks(int thread);

  // Per thread (0: the owner), a cache line of its own.
  struct alignas(64) Slot {
    std::atomic<int64_t> next{0};   // the next unclaimed task of this thread's range
    int64_t end = 0;                // the range's end; written by the owner before a loop
    std::atomic<uint64_t> done{0};  // the last loop (generation) this worker finished
  };

  std::vector<std::thread> workers_;
  std::unique_ptr<Slot[]> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> generation_{0};
  // The current loop; written by the owner before `generation_` is bumped.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
};

}  // namespace pocket
