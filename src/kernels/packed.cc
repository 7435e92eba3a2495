#include "kernels/packed.h"

#include <cstdlib>
#include <cstring>

#include "quant/blocks.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

// Bytes of one block's scale and quants in the two packed formats.
struct PackFormat {
  int block_bytes;  // in the original row
  int quant_bytes;  // quants per block and row
};

bool PackFormatOf(DType type, PackFormat* f) {
  switch (type) {
    case DType::kQ4_0:
      *f = {18, 16};
      return true;
    case DType::kQ8_0:
      *f = {34, 32};
      return true;
    default:
      return false;
  }
}

bool PackingDisabled() {
  const char* v = std::getenv("POCKET_REPACK");
  return v != nullptr && std::strcmp(v, "0") == 0;
}

}  // namespace

bool CanPack(const KernelTable& k, DType type, int64_t rows, int64_t cols) {
  PackFormat f;
  const int id = static_cast<int>(type);
  return PackFormatOf(type, &f) && id >= 0 && id < kMaxTypeId && k.gemm_packed[id] != nullptr &&
         rows > 0 && rows % kPackRows == 0 && cols > 0 && cols % 32 == 0;
}

void PackRowGroups(DType type, const uint8_t* src, int64_t cols, int64_t g0, int64_t g1,
                   uint8_t* dst) {
  PackFormat f;
  if (!PackFormatOf(type, &f)) return;
  const int64_t nb = cols / 32;
  const uint64_t row_bytes = static_cast<uint64_t>(nb) * f.block_bytes;
  const uint64_t group_block = static_cast<uint64_t>(kPackRows) * f.block_bytes;
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* rows = src + static_cast<uint64_t>(g) * kPackRows * row_bytes;
    uint8_t* out = dst + static_cast<uint64_t>(g) * kPackRows * row_bytes;
    for (int64_t b = 0; b < nb; ++b, out += group_block) {
      for (int r = 0; r < kPackRows; ++r) {
        const uint8_t* blk = rows + r * row_bytes + static_cast<uint64_t>(b) * f.block_bytes;
        std::memcpy(out + 2 * r, blk, 2);  // f16 scale
        for (int j = 0; j < f.quant_bytes / 4; ++j)
          std::memcpy(out + 2 * kPackRows + 4 * (kPackRows * j + r), blk + 2 + 4 * j, 4);
      }
    }
  }
}

void ActivationBlockInfos(const void* q8_0_row, int64_t n, ActBlockInfo* out) {
  const auto* blocks = static_cast<const quant::BlockQ8_0*>(q8_0_row);
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t sum = 0;
    for (int i = 0; i < 32; ++i) sum += blocks[b].qs[i];
    out[b] = {F16ToF32(blocks[b].d), sum};
  }
}

std::unique_ptr<PackedWeights> PackedWeights::Build(const KernelTable& k,
                                                    const std::vector<Source>& sources,
                                                    ThreadPool* pool, const ReleaseFn& release) {
  auto store = std::make_unique<PackedWeights>();
  if (PackingDisabled()) return store;
  for (const Source& s : sources) {
    if (s.data == nullptr || !CanPack(k, s.type, s.rows, s.cols) || store->entries_.count(s.data))
      continue;
    const uint64_t bytes = static_cast<uint64_t>(s.rows) * *RowBytes(s.type, s.cols);
    Entry e;
    e.data.reset(new uint8_t[bytes]);
    e.rows = s.rows;
    e.cols = s.cols;
    const int64_t groups = s.rows / kPackRows;
    constexpr int64_t kGroupsPerTask = 64;
    const int64_t tasks = (groups + kGroupsPerTask - 1) / kGroupsPerTask;
    auto pack = [&](int64_t t, int) {
      PackRowGroups(s.type, s.data, s.cols, t * kGroupsPerTask,
                    std::min(groups, (t + 1) * kGroupsPerTask), e.data.get());
    };
    if (pool) {
      pool->ParallelFor(tasks, pack);
    } else {
      for (int64_t t = 0; t < tasks; ++t) pack(t, 0);
    }
    if (release) release(s.data, bytes);
    store->bytes_ += bytes;
    store->entries_.emplace(s.data, std::move(e));
  }
  return store;
}

WeightMatrix PackedWeights::View(const PackedWeights* store, const KernelTable& k, DType type,
                                 const uint8_t* data, int64_t row_offset, int64_t rows,
                                 int64_t cols) {
  const uint64_t row_bytes = *RowBytes(type, cols);
  WeightMatrix m{type, data + static_cast<uint64_t>(row_offset) * row_bytes, rows, cols, row_bytes};
  if (store == nullptr || row_offset % kPackRows != 0 || !CanPack(k, type, rows, cols)) return m;
  auto it = store->entries_.find(data);
  if (it == store->entries_.end() || it->second.cols != cols || row_offset + rows > it->second.rows)
    return m;
  m.data = it->second.data.get() + static_cast<uint64_t>(row_offset) * row_bytes;
  m.packed = true;
  return m;
}

}  // namespace pocket::kernels
