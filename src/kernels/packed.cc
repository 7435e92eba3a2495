#include "kernels/packed.h"

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "quant/blocks.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

// Block geometry of the packed formats.
struct PackFormat {
  int block_elems;   // elements per block (32, or 256 for K-quants)
  int block_bytes;   // bytes per block in the original row
  int packed_bytes;  // bytes per block and row in the packed layout
};

bool PackFormatOf(DType type, PackFormat* f) {
  switch (type) {
    case DType::kQ4_0:
      *f = {32, 18, 18};
      return true;
    case DType::kQ4_1:
      *f = {32, 20, 20};
      return true;
    case DType::kQ5_0:
      *f = {32, 22, 22};
      return true;
    case DType::kQ5_1:
      *f = {32, 24, 24};
      return true;
    case DType::kIQ4_NL:
      *f = {32, 18, 18};
      return true;
    case DType::kMXFP4:
      *f = {32, 17, 17};
      return true;
    case DType::kIQ4_XS:
      *f = {256, 136, 138};  // scales unpacked to bytes
      return true;
    case DType::kQ8_0:
      *f = {32, 34, 34};
      return true;
    case DType::kQ4_K:
      *f = {256, 144, 148};  // scales and mins unpacked to bytes
      return true;
    case DType::kQ2_K:
      *f = {256, 84, 84};
      return true;
    case DType::kQ3_K:
      *f = {256, 110, 114};  // scales unpacked to signed bytes
      return true;
    case DType::kQ5_K:
      *f = {256, 176, 180};  // Q4_K's packed block plus the fifth bits (32 bytes)
      return true;
    case DType::kQ6_K:
      *f = {256, 210, 210};
      return true;
    default:
      return false;
  }
}

// Physical memory less a reserve for the KV cache, activations and the rest of the system (an
// eighth of it, at least 2 GiB). Packing releases each matrix's mapped pages as it goes, so a
// model that fits in memory is packed whole and stays one copy; a larger one is packed up to
// the budget and pages the rest from its file. (Half the memory, the rule before, left a
// 15.6 GiB 26B-A4B on a 24 GiB machine with 3.6 GiB of slower row-major matrices.)
uint64_t DefaultPackBudget() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX;
  const uint64_t phys = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
  const uint64_t reserve = std::max<uint64_t>(uint64_t{2} << 30, phys / 8);
  return phys > reserve ? phys - reserve : 0;
}

bool PackingDisabled() {
  const char* v = std::getenv("POCKET_REPACK");
  return v != nullptr && std::strcmp(v, "0") == 0;
}

// Interleaves `quant_bytes` bytes of quants of the group's rows four bytes at a time.
void InterleaveQuants(const uint8_t* const* rows_q, int quant_bytes, uint8_t* out) {
  for (int j = 0; j < quant_bytes / 4; ++j) {
    for (int r = 0; r < kPackRows; ++r)
      std::memcpy(out + 4 * (kPackRows * j + r), rows_q[r] + 4 * j, 4);
  }
}

}  // namespace

bool CanPack(const KernelTable& k, DType type, int64_t rows, int64_t cols) {
  PackFormat f;
  const int id = static_cast<int>(type);
  return PackFormatOf(type, &f) && id >= 0 && id < kMaxTypeId && k.gemm_packed[id] != nullptr &&
         rows > 0 && rows % kPackRows == 0 && cols > 0 && cols % f.block_elems == 0;
}

uint64_t PackedRowBytes(DType type, int64_t cols) {
  PackFormat f;
  if (!PackFormatOf(type, &f)) return 0;
  return static_cast<uint64_t>(cols / f.block_elems) * static_cast<uint64_t>(f.packed_bytes);
}

void PackRowGroups(DType type, const uint8_t* src, int64_t cols, int64_t g0, int64_t g1,
                   uint8_t* dst) {
  PackFormat f;
  if (!PackFormatOf(type, &f)) return;
  const int64_t nb = cols / f.block_elems;
  const uint64_t row_bytes = static_cast<uint64_t>(nb) * f.block_bytes;
  const uint64_t group_block = static_cast<uint64_t>(kPackRows) * f.packed_bytes;
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* rows = src + static_cast<uint64_t>(g) * kPackRows * row_bytes;
    uint8_t* out = dst + static_cast<uint64_t>(g) * nb * group_block;
    for (int64_t b = 0; b < nb; ++b, out += group_block) {
      const uint8_t* blk[kPackRows];
      for (int r = 0; r < kPackRows; ++r)
        blk[r] = rows + r * row_bytes + static_cast<uint64_t>(b) * f.block_bytes;
      if (type == DType::kQ4_K || type == DType::kQ5_K) {
        // d[8], dmin[8] (f16), scales[sub-block][row], mins[sub-block][row], quants; Q5_K
        // then per quant vector (p, j) one byte per row with the fifth bits of its elements
        // 64p + 4j + k (bit k) and 64p + 32 + 4j + k (bit 4 + k). The two blocks share their
        // header (d, dmin, scales); Q5_K's qh sits between it and the quants.
        static_assert(offsetof(quant::BlockQ4_K, scales) == 4 &&
                      offsetof(quant::BlockQ5_K, scales) == 4);
        const bool fifth = type == DType::kQ5_K;
        const uint8_t* q[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
          std::memcpy(out + 2 * r, blk[r], 2);           // d
          std::memcpy(out + 16 + 2 * r, blk[r] + 2, 2);  // dmin
          for (int s = 0; s < 8; ++s)
            quant::ScaleMinK4(s, blk[r] + 4, out + 32 + 8 * s + r, out + 96 + 8 * s + r);
          if (!fifth) {
            q[r] = reinterpret_cast<const quant::BlockQ4_K*>(blk[r])->qs;
            continue;
          }
          const auto* x5 = reinterpret_cast<const quant::BlockQ5_K*>(blk[r]);
          q[r] = x5->qs;
          for (int p = 0; p < 4; ++p) {
            for (int j = 0; j < 8; ++j) {
              int bits = 0;
              for (int k = 0; k < 4; ++k) {
                const int h = x5->qh[4 * j + k];
                bits |= ((h >> (2 * p)) & 1) << k | ((h >> (2 * p + 1)) & 1) << (4 + k);
              }
              out[1184 + 8 * (8 * p + j) + r] = static_cast<uint8_t>(bits);
            }
          }
        }
        InterleaveQuants(q, 128, out + 160);
      } else if (type == DType::kQ6_K) {
        // d[8] (f16), scales[16 sub-blocks][8 rows], then the codes as 16 triples.
        for (int r = 0; r < kPackRows; ++r) {
          const auto* x = reinterpret_cast<const quant::BlockQ6_K*>(blk[r]);
          std::memcpy(out + 2 * r, &x->d, 2);
          for (int s = 0; s < 16; ++s) out[16 + 8 * s + r] = static_cast<uint8_t>(x->scales[s]);
          uint8_t code[256];  // unsigned 6-bit codes in element order (the file's bit layout)
          for (int h = 0; h < 2; ++h) {
            for (int l = 0; l < 32; ++l) {
              const int la = x->ql[64 * h + l], lb = x->ql[64 * h + 32 + l];
              const int hb = x->qh[32 * h + l];
              code[128 * h + l] = static_cast<uint8_t>((la & 15) | (hb & 3) << 4);
              code[128 * h + 32 + l] = static_cast<uint8_t>((lb & 15) | ((hb >> 2) & 3) << 4);
              code[128 * h + 64 + l] = static_cast<uint8_t>((la >> 4) | ((hb >> 4) & 3) << 4);
              code[128 * h + 96 + l] = static_cast<uint8_t>((lb >> 4) | ((hb >> 6) & 3) << 4);
            }
          }
          for (int t = 0; t < 16; ++t) {
            const int h = t / 8, j = t % 8;
            for (int i = 0; i < 4; ++i) {
              const int e = 128 * h + 4 * j + i, top = code[e + 96];
              for (int k = 0; k < 3; ++k) {
                out[144 + 96 * t + 32 * k + 4 * r + i] =
                    static_cast<uint8_t>(code[e + 32 * k] | ((top >> (2 * k)) & 3) << 6);
              }
            }
          }
        }
      } else if (type == DType::kQ3_K) {
        // d[8] (f16), the signed scales [16 sub-blocks][8 rows], the 2-bit quants (64 bytes
        // per row), then the hmask bytes (32 per row), both interleaved as the file orders them.
        const uint8_t *q[kPackRows], *hm[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
          const auto* x = reinterpret_cast<const quant::BlockQ3_K*>(blk[r]);
          std::memcpy(out + 2 * r, &x->d, 2);
          for (int k = 0; k < 16; ++k)
            out[16 + 8 * k + r] = static_cast<uint8_t>(quant::ScaleQ3K(k, x->scales));
          q[r] = x->qs;
          hm[r] = x->hmask;
        }
        InterleaveQuants(q, 64, out + 144);
        InterleaveQuants(hm, 32, out + 656);
      } else if (type == DType::kQ2_K) {
        // d[8], dmin[8] (f16), the scale/min bytes [16 sub-blocks][8 rows], the quants.
        const uint8_t* q[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
          const auto* x = reinterpret_cast<const quant::BlockQ2_K*>(blk[r]);
          std::memcpy(out + 2 * r, &x->d, 2);
          std::memcpy(out + 16 + 2 * r, &x->dmin, 2);
          for (int k = 0; k < 16; ++k) out[32 + 8 * k + r] = x->scales[k];
          q[r] = x->qs;
        }
        InterleaveQuants(q, 64, out + 160);
      } else if (type == DType::kIQ4_XS) {
        // d[8] (f16), the signed scales ls - 32 as [sub-block][row] int8, quants.
        const uint8_t* q[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
          const auto* x = reinterpret_cast<const quant::BlockIQ4XS*>(blk[r]);
          std::memcpy(out + 2 * r, &x->d, 2);
          for (int s = 0; s < 8; ++s)
            out[16 + 8 * s + r] = static_cast<uint8_t>(quant::ScaleIQ4XS(s, *x));
          q[r] = x->qs;
        }
        InterleaveQuants(q, 128, out + 80);
      } else if (type == DType::kQ4_1 || type == DType::kQ5_0 || type == DType::kQ5_1) {
        // d[8] (f16), for Q4_1/Q5_1 m[8] (f16), the low nibbles as Q4_0, then for Q5_0/Q5_1
        // per 4-byte chunk j one byte per row with the fifth bits of its eight elements:
        // 4j..4j+3 (low nibble), 16+4j.. (high).
        const bool has_min = type != DType::kQ5_0, fifth = type != DType::kQ4_1;
        const int header = has_min ? 32 : 16;
        const uint8_t* q[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
          std::memcpy(out + 2 * r, blk[r], 2);
          if (has_min) std::memcpy(out + 16 + 2 * r, blk[r] + 2, 2);
          const uint8_t* qh = blk[r] + (has_min ? 4 : 2);
          q[r] = fifth ? qh + 4 : qh;
          if (!fifth) continue;
          uint32_t bits;
          std::memcpy(&bits, qh, 4);
          for (int j = 0; j < 4; ++j) {
            out[header + 128 + 8 * j + r] =
                static_cast<uint8_t>(((bits >> (4 * j)) & 15) | ((bits >> (16 + 4 * j)) & 15) << 4);
          }
        }
        InterleaveQuants(q, 16, out + header);
      } else if (type == DType::kMXFP4) {
        // e[8] (E8M0 bytes), quants.
        const uint8_t* q[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
          out[r] = blk[r][0];
          q[r] = blk[r] + 1;
        }
        InterleaveQuants(q, 16, out + kPackRows);
      } else {
        // d[8] (f16), quants.
        const uint8_t* q[kPackRows];
        for (int r = 0; r < kPackRows; ++r) {
          std::memcpy(out + 2 * r, blk[r], 2);
          q[r] = blk[r] + 2;
        }
        InterleaveQuants(q, f.block_bytes - 2, out + 2 * kPackRows);
      }
    }
  }
}

uint64_t ActivationInfoBytes(DType weight_type, int64_t cols) {
  switch (weight_type) {
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kIQ4_NL:
    case DType::kMXFP4:
    case DType::kQ8_0:
      return static_cast<uint64_t>(cols / 32) * sizeof(ActBlockInfo);
    case DType::kIQ4_XS:
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return static_cast<uint64_t>(cols / 256) * sizeof(ActSuperBlockInfo);
    default:
      return 0;
  }
}

void ActivationInfos(DType weight_type, const void* act_row, int64_t n, void* out) {
  if (ActivationType(weight_type) == DType::kQ8_K) {
    const auto* blocks = static_cast<const quant::BlockQ8_K*>(act_row);
    auto* info = static_cast<ActSuperBlockInfo*>(out);
    for (int64_t b = 0; b < n / 256; ++b) {
      info[b].d = blocks[b].d;
      for (int s = 0; s < 16; ++s) info[b].sums16[s] = static_cast<float>(blocks[b].bsums[s]);
      for (int s = 0; s < 8; ++s)
        info[b].sums[s] = static_cast<float>(blocks[b].bsums[2 * s] + blocks[b].bsums[2 * s + 1]);
    }
    return;
  }
  const auto* blocks = static_cast<const quant::BlockQ8_0*>(act_row);
  auto* info = static_cast<ActBlockInfo*>(out);
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t sum = 0;
    for (int i = 0; i < 32; ++i) sum += blocks[b].qs[i];
    info[b] = {F16ToF32(blocks[b].d), sum};
  }
}

std::unique_ptr<PackedWeights> PackedWeights::Build(const KernelTable& k,
                                                    const std::vector<Source>& sources,
                                                    ThreadPool* pool, const ReleaseFn& release,
                                                    uint64_t max_bytes) {
  auto store = std::make_unique<PackedWeights>();
  if (PackingDisabled()) return store;
  if (max_bytes == 0) max_bytes = DefaultPackBudget();
  // Where each packed matrix goes in one buffer (huge pages: decoding streams every matrix
  // once per token, and with 4 KiB pages a TLB miss every 4 KiB is a measurable share).
  struct Placement {
    const Source* source;
    uint64_t offset;
  };
  std::vector<Placement> plan;
  uint64_t total = 0;
  for (const Source& s : sources) {
    if (s.data == nullptr || !CanPack(k, s.type, s.rows, s.cols)) continue;
    if (std::any_of(plan.begin(), plan.end(),
                    [&](const Placement& p) { return p.source->data == s.data; }))
      continue;
    const uint64_t bytes = static_cast<uint64_t>(s.rows) * PackedRowBytes(s.type, s.cols);
    if (store->bytes_ + bytes > max_bytes) break;
    plan.push_back({&s, total});
    store->bytes_ += bytes;
    total += (bytes + 63) / 64 * 64;
  }
  if (plan.empty()) return store;
  store->arena_ = LargeBuffer::Allocate(total);
  if (store->arena_.data() == nullptr) {  // no memory for the copies: run from the mapping
    store->bytes_ = 0;
    return store;
  }
  for (const Placement& p : plan) {
    const Source& s = *p.source;
    Entry e;
    e.data = store->arena_.data() + p.offset;
    e.rows = s.rows;
    e.cols = s.cols;
    const int64_t groups = s.rows / kPackRows;
    constexpr int64_t kGroupsPerTask = 64;
    const int64_t tasks = (groups + kGroupsPerTask - 1) / kGroupsPerTask;
    auto pack = [&](int64_t t, int) {
      PackRowGroups(s.type, s.data, s.cols, t * kGroupsPerTask,
                    std::min(groups, (t + 1) * kGroupsPerTask), e.data);
    };
    if (pool) {
      pool->ParallelFor(tasks, pack);
    } else {
      for (int64_t t = 0; t < tasks; ++t) pack(t, 0);
    }
    if (release) release(s.data, static_cast<uint64_t>(s.rows) * *RowBytes(s.type, s.cols));
    store->entries_.emplace(s.data, e);
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
  m.row_bytes = PackedRowBytes(type, cols);
  m.data = it->second.data + static_cast<uint64_t>(row_offset) * m.row_bytes;
  m.packed = true;
  return m;
}

}  // namespace pocket::kernels
