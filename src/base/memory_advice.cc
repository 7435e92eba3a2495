#include "base/memory_advice.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace pocket {

void AdviseWillNeed(const void* p, size_t len) {
  if (p == nullptr || len == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + len;
  // A failure (e.g. a range the kernel does not support the advice for) costs nothing: the
  // pages are then read when touched, as without the hint.
  (void)madvise(reinterpret_cast<void*>(start), end - start, MADV_WILLNEED);
}

}  // namespace pocket
