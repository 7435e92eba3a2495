// The base utilities: the thread pool, memory hints, large buffers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/large_buffer.h"
#include "base/mapped_file.h"
#include "base/memory_advice.h"
#include "base/thread_pool.h"
#include "common/test_util.h"

namespace pocket {
namespace {

TEST(ThreadPool, RunsEveryTaskOnceAcrossManyLoops) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.size(), 4);
  for (int loop = 0; loop < 200; ++loop) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(loop % 17 + 1));
    pool.ParallelFor(static_cast<int64_t>(hits.size()), [&](int64_t t, int thread) {
      EXPECT_GE(thread, 0);
      EXPECT_LT(thread, 4);
      hits[static_cast<size_t>(t)].fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  // More threads than cores and than tasks: workers are often asleep or preempted when a
  // loop starts, and the others take their ranges; still every task exactly once, and the
  // loop returns only after all of them ran.
  ThreadPool wide(8);
  for (int loop = 0; loop < 300; ++loop) {
    const int64_t n = loop % 41;
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    std::atomic<int64_t> done{0};
    wide.ParallelFor(n, [&](int64_t t, int thread) {
      EXPECT_LT(thread, 8);
      hits[static_cast<size_t>(t)].fetch_add(1);
      done.fetch_add(1);
    });
    ASSERT_EQ(done.load(), n);
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  ThreadPool single(1);
  int count = 0;
  single.ParallelFor(5, [&](int64_t, int) { ++count; });
  EXPECT_EQ(count, 5);
}

// Prefill hints every embedding row it will read (AdviseWillNeed); the hint must leave the bytes
// as they are whatever it is given: unaligned ranges of a file mapping, heap memory (where a
// wrong advice such as MADV_DONTNEED would zero the pages), empty and null ranges.
TEST(MemoryAdvice, WillNeedKeepsTheBytes) {
  const std::string path = pocket::testing::TempDir() + "/advise.bin";
  std::string bytes(3 * 4096 + 123, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + 1);
  pocket::testing::WriteFile(path, bytes);
  Result<MappedFile> f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  AdviseWillNeed(f->data() + 4097, 5000);
  AdviseWillNeed(f->data() + bytes.size() - 1, 1);
  EXPECT_EQ(std::memcmp(f->data(), bytes.data(), bytes.size()), 0);

  std::vector<uint8_t> heap(5 * 4096, 0xA5);
  AdviseWillNeed(heap.data() + 100, heap.size() - 100);
  AdviseWillNeed(heap.data(), 0);
  AdviseWillNeed(nullptr, 4096);
  for (size_t i = 0; i < heap.size(); ++i) ASSERT_EQ(heap[i], 0xA5) << "byte " << i;
}

// Packed weights live in one LargeBuffer: it must come zeroed, writable over its whole length,
// 2 MiB-aligned (so huge pages can back it from the first byte), and survive moves.
TEST(LargeBuffer, ZeroedAlignedWritableAndMovable) {
  const size_t bytes = (size_t{5} << 20) + 12345;  // not a multiple of any page size
  LargeBuffer b = LargeBuffer::Allocate(bytes);
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % (uintptr_t{2} << 20), 0u);
  for (size_t i = 0; i < bytes; i += 4096) ASSERT_EQ(b.data()[i], 0) << "byte " << i;
  EXPECT_EQ(b.data()[bytes - 1], 0);
  for (size_t i = 0; i < bytes; ++i) b.data()[i] = static_cast<uint8_t>(i * 13 + 5);

  uint8_t* const p = b.data();
  LargeBuffer moved(std::move(b));
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(b.size(), 0u);
  ASSERT_EQ(moved.data(), p);
  LargeBuffer assigned = LargeBuffer::Allocate(4096);
  ASSERT_NE(assigned.data(), nullptr);
  assigned = std::move(moved);  // releases the 4 KiB buffer, takes the big one
  ASSERT_EQ(assigned.data(), p);
  EXPECT_EQ(assigned.size(), bytes);
  for (size_t i = 0; i < bytes; ++i)
    ASSERT_EQ(assigned.data()[i], static_cast<uint8_t>(i * 13 + 5)) << "byte " << i;
}

TEST(LargeBuffer, EmptyAndImpossibleRequestsGiveNoMemory) {
  EXPECT_EQ(LargeBuffer::Allocate(0).data(), nullptr);
  EXPECT_EQ(LargeBuffer::Allocate(SIZE_MAX).data(), nullptr);
  EXPECT_EQ(LargeBuffer::Allocate(SIZE_MAX - (size_t{1} << 20)).data(), nullptr);
  LargeBuffer none;
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace pocket
