// Replaces the global operator new of a test binary to count heap allocations (link this
// file into tests that assert "no allocation in the token loop"). Kept out of the test's own
// translation unit so the compiler cannot see both sides of new/delete.
#include <atomic>
#include <cstdlib>
#include <new>

namespace pocket::testing {
std::atomic<long> g_allocation_count{0};
long AllocationCount() { return g_allocation_count.load(std::memory_order_relaxed); }
}  // namespace pocket::testing

void* operator new(size_t n) {
  pocket::testing::g_allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
