#include "apps/server/slots.h"

#include <algorithm>

namespace pocket::server {

Result<std::unique_ptr<SlotPool>> SlotPool::Create(const Model& model, int n_slots, int threads_total,
                                                   const SessionOptions& options, size_t max_queue) {
  if (n_slots < 1) return InvalidArgument(StrFormat("--parallel must be at least 1, got %d", n_slots));
  std::unique_ptr<SlotPool> p(new SlotPool());
  p->max_queue_ = max_queue;
  const int per_slot = std::max(1, threads_total / n_slots);
  for (int i = 0; i < n_slots; ++i) {
    auto slot = std::make_unique<Lease::Slot>();
    slot->pool = std::make_unique<ThreadPool>(per_slot);
    ASSIGN_OR_RETURN(slot->session, Session::Create(model, slot->pool.get(), options));
    p->slots_.push_back(std::move(slot));
  }
  return p;
}

SlotPool::Lease::~Lease() { pool_->Release(slot_); }

Session& SlotPool::Lease::session() { return *slot_->session; }

std::unique_ptr<SlotPool::Lease> SlotPool::Acquire(const std::vector<int32_t>& prompt) {
  std::unique_lock<std::mutex> lock(mu_);
  if (waiting_.size() >= max_queue_ + slots_.size()) return nullptr;
  const uint64_t ticket = next_ticket_++;
  waiting_.push_back(ticket);
  auto free_slot = [&]() -> Lease::Slot* {
    Lease::Slot* best = nullptr;
    size_t best_common = 0;
    for (auto& s : slots_) {
      if (s->busy) continue;
      const std::vector<int32_t>& cached = s->session->tokens();
      size_t common = 0;
      while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) ++common;
      if (best == nullptr || common > best_common) best = s.get(), best_common = common;
    }
    return best;
  };
  cv_.wait(lock, [&] { return waiting_.front() == ticket && free_slot() != nullptr; });
  waiting_.pop_front();
  Lease::Slot* slot = free_slot();
  slot->busy = true;
  cv_.notify_all();  // the next ticket may find another free slot
  return std::unique_ptr<Lease>(new Lease(this, slot));
}

void SlotPool::Release(Lease::Slot* slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    slot->busy = false;
  }
  cv_.notify_all();
}

int SlotPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& s : slots_) n += s->busy;
  return n;
}

int SlotPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiting_.size());
}

int64_t SlotPool::n_ctx() const { return slots_.front()->session->n_ctx(); }

}  // namespace pocket::server
