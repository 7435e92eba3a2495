// KvCache: the per-layer K/V storage of the Gemma 4 decoder, sized by the architecture.
//
//  * full-attention layers: one slot per context position;
//  * sliding layers: a ring of min(n_ctx, window - 1 + max_batch) slots — exactly what the
//    last query of a prefill chunk can still see plus the chunk itself;
//  * KV-shared layers: nothing; they read their donor layer's cache (config.kv_source_layer).
//
// Storage is f32, f16 or bf16. Memory is allocated uninitialised, so pages are only
// committed as positions are written; layers of 8 MiB or more (full attention over a long
// context) take huge pages where the system grants them, since decoding reads all of them
// every token (at most 2 MiB per layer is committed ahead of its positions). Owned by one
// Decoder; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/large_buffer.h"
#include "kernels/attention.h"
#include "model/config.h"

namespace pocket {

class KvCache {
 public:
  static Result<KvCache> Create(const Gemma4TextConfig& c, int64_t n_ctx, int64_t max_batch,
                                kernels::KvType type);

  // Row of position `pos` (all KV heads) in layer il, which must own its KV.
  uint8_t* KRow(int il, int64_t pos);
  uint8_t* VRow(int il, int64_t pos);
  // The cache layer il reads (its donor's for KV-shared layers).
  kernels::KvLayerView View(int il) const;

  int64_t n_ctx() const { return n_ctx_; }
  kernels::KvType type() const { return type_; }
  uint64_t bytes() const { return bytes_; }
  // "KV cache: 12.5 MiB f32 (7 sliding x 639 slots, 2 full x 4096, 3 shared: 0)".
  std::string Describe() const;

 private:
  // One layer's K or V: small ones from the heap, large ones in a LargeBuffer.
  class Storage {
   public:
    static constexpr uint64_t kHugePageBytes = uint64_t{8} << 20;
    static Storage Allocate(uint64_t bytes);  // data() null if refused
    uint8_t* data() const { return small_ ? small_.get() : large_.data(); }

   private:
    std::unique_ptr<uint8_t[]> small_;
    LargeBuffer large_;
  };
  struct Layer {
    Storage k, v;
    int64_t capacity = 0;
    uint64_t slot_bytes = 0;
    int source = 0;  // layer whose storage this one reads
  };
  std::vector<Layer> layers_;
  int64_t n_ctx_ = 0;
  kernels::KvType type_ = kernels::KvType::kF32;
  uint64_t bytes_ = 0;
  std::string summary_;
};

}  // namespace pocket
