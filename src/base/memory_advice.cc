#include "base/memory_advice.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace pocket {

namespace {

// madvise over the whole pages that [p, p + len) touches. A failure (e.g. a range the kernel
// does not support the advice for) costs nothing: the pages then behave as without the hint.
void AdvisePages(const void* p, size_t len, int advice) {
  if (p == nullptr || len == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + len;
  (void)madvise(reinterpret_cast<void*>(start), end - start, advice);
}

}  // namespace

void AdviseWillNeed(const void* p, size_t len) { AdvisePages(p, len, MADV_WILLNEED); }

void AdviseDontNeedFileMapped(const void* p, size_t len) { AdvisePages(p, len, MADV_DONTNEED); }

}  // namespace pocket
