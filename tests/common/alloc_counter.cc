// Counts heap allocations of a test binary (link this file into tests that assert "no
// allocation in the token loop"). Kept out of the test's own translation unit so the compiler
// cannot see both sides of new/delete.
//
// Normal builds replace the global operator new. Under AddressSanitizer replacing it clashes
// with ASan's own allocator (new[] from the runtime, delete[] from here), so there the count
// comes from ASan's malloc hook instead, which sees every allocation including operator new.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define POCKET_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POCKET_ASAN 1
#endif
#endif

namespace pocket::testing {
std::atomic<long> g_allocation_count{0};
long AllocationCount() { return g_allocation_count.load(std::memory_order_relaxed); }
}  // namespace pocket::testing

#ifdef POCKET_ASAN
#include <sanitizer/allocator_interface.h>

namespace {
void CountMalloc(const volatile void*, size_t) {
  pocket::testing::g_allocation_count.fetch_add(1, std::memory_order_relaxed);
}
void IgnoreFree(const volatile void*) {}
[[maybe_unused]] const int kInstalled = __sanitizer_install_malloc_and_free_hooks(CountMalloc, IgnoreFree);
}  // namespace
#else
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
#endif
