#include "runtime/kv_cache.h"

#include <algorithm>
#include <new>

namespace pocket {

KvCache::Storage KvCache::Storage::Allocate(uint64_t bytes) {
  Storage s;
  if (bytes >= kHugePageBytes) {
    s.large_ = LargeBuffer::Allocate(static_cast<size_t>(bytes));
  } else {
    s.small_.reset(new (std::nothrow) uint8_t[bytes]);
  }
  return s;
}

Result<KvCache> KvCache::Create(const Gemma4TextConfig& c, int64_t n_ctx, int64_t max_batch,
                                kernels::KvType type) {
  if (n_ctx <= 0)
    return InvalidArgument(StrFormat("context size must be positive, got %lld", (long long)n_ctx));
  if (max_batch <= 0)
    return InvalidArgument(
        StrFormat("batch size must be positive, got %lld", (long long)max_batch));
  KvCache kv;
  kv.n_ctx_ = n_ctx;
  kv.type_ = type;
  kv.layers_.resize(static_cast<size_t>(c.n_layer));
  int n_sliding = 0, n_full = 0, n_shared = 0;
  int64_t sliding_slots = 0;
  for (int il = 0; il < c.n_layer; ++il) {
    Layer& l = kv.layers_[static_cast<size_t>(il)];
    l.source = c.kv_source_layer(il);
    l.slot_bytes = static_cast<uint64_t>(c.n_head_kv[static_cast<size_t>(il)]) *
                   static_cast<uint64_t>(c.head_dim(il)) *
                   static_cast<uint64_t>(kernels::KvTypeBytes(type));
    if (l.source != il) {
      ++n_shared;
      continue;
    }
    l.capacity = c.is_sliding(il) ? std::min(n_ctx, c.sliding_window - 1 + max_batch) : n_ctx;
    if (c.is_sliding(il)) {
      ++n_sliding;
      sliding_slots = l.capacity;
    } else {
      ++n_full;
    }
    const uint64_t n = static_cast<uint64_t>(l.capacity) * l.slot_bytes;
    l.k = Storage::Allocate(n);
    l.v = Storage::Allocate(n);
    if (!l.k.data() || !l.v.data()) {
      return ResourceExhausted(StrFormat("cannot allocate the KV cache of layer %d (%llu bytes)",
                                         il, (unsigned long long)(2 * n)));
    }
    kv.bytes_ += 2 * n;
  }
  kv.summary_ =
      StrFormat("KV cache: %.1f MiB %s (%d sliding x %lld slots, %d full x %lld, %d shared: none)",
                static_cast<double>(kv.bytes_) / (1024.0 * 1024.0), kernels::KvTypeName(type),
                n_sliding, (long long)sliding_slots, n_full, (long long)n_ctx, n_shared);
  return kv;
}

uint8_t* KvCache::KRow(int il, int64_t pos) {
  Layer& l = layers_[static_cast<size_t>(il)];
  return l.k.data() + static_cast<uint64_t>(pos % l.capacity) * l.slot_bytes;
}

uint8_t* KvCache::VRow(int il, int64_t pos) {
  Layer& l = layers_[static_cast<size_t>(il)];
  return l.v.data() + static_cast<uint64_t>(pos % l.capacity) * l.slot_bytes;
}

kernels::KvLayerView KvCache::View(int il) const {
  const Layer& l = layers_[static_cast<size_t>(layers_[static_cast<size_t>(il)].source)];
  return {l.k.data(), l.v.data(), l.capacity, type_};
}

std::string KvCache::Describe() const { return summary_; }

}  // namespace pocket
