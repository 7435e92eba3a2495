// SlotPool: the server's N decoding slots over one shared Model. Each slot is a Session
// (its own KV cache and thread pool share of the cores). Requests take a slot first come,
// first served; among free slots the one whose cache shares the longest prefix with the new
// prompt is chosen, so a client continuing its conversation usually finds its history cached.
// At most `max_queue` requests wait; further ones are refused at once (the server answers 503).
//
// Thread-safe. The pool outlives every Lease.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "base/thread_pool.h"
#include "runtime/session.h"

namespace pocket::server {

class SlotPool {
 public:
  static Result<std::unique_ptr<SlotPool>> Create(const Model& model, int n_slots, int threads_total,
                                                  const SessionOptions& options, size_t max_queue);

  class Lease {
   public:
    ~Lease();
    Session& session();

   private:
    friend class SlotPool;
    struct Slot;
    Lease(SlotPool* pool, Slot* slot) : pool_(pool), slot_(slot) {}
    SlotPool* pool_;
    Slot* slot_;
  };

  // Waits for a slot (FIFO). Null when the wait queue is full.
  std::unique_ptr<Lease> Acquire(const std::vector<int32_t>& prompt);

  int n_slots() const { return static_cast<int>(slots_.size()); }
  int busy() const;
  int queued() const;
  int64_t n_ctx() const;

 private:
  SlotPool() = default;
  void Release(Lease::Slot* slot);

  std::vector<std::unique_ptr<Lease::Slot>> slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint64_t> waiting_;  // tickets in arrival order
  uint64_t next_ticket_ = 0;
  size_t max_queue_ = 0;
};

struct SlotPool::Lease::Slot {
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Session> session;
  bool busy = false;
};

}  // namespace pocket::server
