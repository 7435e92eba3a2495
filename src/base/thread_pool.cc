#include "base/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define POCKET_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define POCKET_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define POCKET_CPU_RELAX() std::this_thread::yield()
#endif

namespace pocket {
namespace {
// How long an idle worker polls for the next loop before sleeping.
constexpr auto kSpinTime = std::chrono::microseconds(300);
}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : slots_(new Slot[static_cast<size_t>(std::max(1, n_threads))]) {
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

int ThreadPool::HardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::RunTasks(int thread) {
  const int n = size();
  // This thread's range first, then what the others have not claimed yet, neighbours first.
  for (int k = 0; k < n; ++k) {
    Slot& s = slots_[static_cast<size_t>((thread + k) % n)];
    while (s.next.load(std::memory_order_relaxed) < s.end) {
      const int64_t task = s.next.fetch_add(1, std::memory_order_relaxed);
      if (task >= s.end) break;
      fn_(ctx_, task, thread);
    }
  }
}

void ThreadPool::Run(int64_t n_tasks, TaskFn fn, void* ctx) {
  if (n_tasks <= 0) return;
  if (workers_.empty() || n_tasks == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(ctx, t, 0);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  const int n = size();
  for (int i = 0; i < n; ++i) {  // contiguous, near-equal ranges
    Slot& s = slots_[static_cast<size_t>(i)];
    s.next.store(n_tasks * i / n, std::memory_order_relaxed);
    s.end = n_tasks * (i + 1) / n;
  }
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gen = generation_.fetch_add(1, std::memory_order_release) + 1;
  }
  cv_.notify_all();
  RunTasks(0);
  // Every worker must be done with this loop (not merely out of tasks) before the next one
  // rewrites the ranges.
  for (int i = 1; i < n; ++i) {
    const Slot& s = slots_[static_cast<size_t>(i)];
    while (s.done.load(std::memory_order_acquire) != gen) POCKET_CPU_RELAX();
  }
}

void ThreadPool::WorkerLoop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    // Poll for a while: in the token loop the next parallel loop is microseconds away.
    const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    int polls = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      POCKET_CPU_RELAX();
      if (++polls % 256 == 0 && std::chrono::steady_clock::now() > spin_until) break;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    RunTasks(thread);
    slots_[static_cast<size_t>(thread)].done.store(seen, std::memory_order_release);
  }
}

}  // namespace pocket
