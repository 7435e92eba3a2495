// LargeBuffer: zero-filled anonymous memory for big, long-lived arrays (the packed weights),
// aligned to 2 MiB and, on Linux, marked for transparent huge pages (MADV_HUGEPAGE), which
// most distributions grant only on request. Streaming a matrix of hundreds of MiB through
// 4 KiB pages costs a TLB miss and page walk every 4 KiB; 2 MiB pages make those 512 times
// rarer. Pages are committed on first touch, as with malloc.
//
// Owns its mapping (unmapped on destruction); movable, not copyable. Not thread-safe to move
// while another thread reads it; the bytes themselves may be read by any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket {

class LargeBuffer {
 public:
  LargeBuffer() = default;
  ~LargeBuffer();
  LargeBuffer(LargeBuffer&& other) noexcept;
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;

  // A buffer of `bytes` zero bytes; an empty buffer when bytes is 0 or the system refuses
  // the memory (check data() != nullptr).
  static LargeBuffer Allocate(size_t bytes);

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;    // as requested
  size_t mapped_ = 0;  // the mapping's length (whole huge pages)
};

}  // namespace pocket
