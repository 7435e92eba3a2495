// AMX packed GEMM (layout in kernels/packed.h): the tile unit's int8 dot products (TDPBSSD,
// up to 16 x 16 x 32 multiply-adds per instruction) for calls with 16+ activation rows, over
// pairs of packed row groups, for Q8_0, Q4_0, Q5_0, IQ4_NL, Q4_K, Q5_K, Q6_K and IQ4_XS.
// Everything else (decode, the last < 16 activation rows, an odd last row group, the other
// types and kernels) is the AVX-512 table's, which this table copies.
//
// Why the shapes: every block (K-quants: sub-block) has its own scale, so an integer sum may
// run over one block only: K = 32 per product (Q6_K: 16). A pair of eight-row groups gives
// 16 weight rows, whose quants, four bytes of each row side by side, are exactly a B tile's
// rows (64 bytes): interleaved (Q8_0) or unpacked into signed bytes (the other formats) once
// per 64 blocks into a buffer that serves every activation row tile. Each block's int32 sums
// (C tiles of 16 activation rows x 16 weight rows) go through the same f32 epilogue as every
// other table, e.g. acc = fma(dw · da, float(sum), acc) in block order, so the results equal
// the scalar reference bit for bit.
//
// Tile state is per thread: each call loads the configuration and releases the tiles at its
// end. Compiled with the AVX-512 flags plus -mamx-tile -mamx-int8; only reached where
// cpu_features found AMX usable. Stateless apart from g_fallback (set once before the table
// is published), so safe to call from any thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/table_fill.h"
#include "kernels/x86/avx512_util.h"  // first: its GCC 12 warning workaround
#include "kernels/x86/packed_frame.h"

namespace pocket::kernels {
namespace {

// The tile instructions, as asm statements that tell the compiler exactly which memory they
// read or write. GCC 12's intrinsics do not: _tile_loadd declares no memory input at all (a
// store to the bytes it loads could legally be moved after it), and _tile_stored clobbers all
// memory, which forces every f32 accumulator out of its register around each store. T is the
// tile register's number (AT&T operand order: sources first).
template <int T>
inline void TileLoad(const void* base, long stride) {  // memory not written in this file
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm%c2" ::"r"(base), "r"(stride), "i"(T));
}
template <int T, size_t kBytes>
inline void TileLoadBytes(const int8_t* base) {  // kBytes contiguous bytes, 64 per row
  __asm__ volatile(
      "tileloadd (%1,%2,1), %%tmm%c3" ::"m"(*reinterpret_cast<const int8_t(*)[kBytes]>(base)),
      "r"(base), "r"(64L), "i"(T));
}
template <int T, size_t kBytes>
inline void TileStoreBytes(int32_t* base) {  // kBytes contiguous bytes, 64 per row
  __asm__ volatile("tilestored %%tmm%c3, (%1,%2,1)"
                   : "=m"(*reinterpret_cast<int32_t(*)[kBytes / 4]>(base))
                   : "r"(base), "r"(64L), "i"(T));
}
template <int T>
inline void TileZero() {
  __asm__ volatile("tilezero %%tmm%c0" ::"i"(T));
}
template <int C, int A, int B>
inline void TileDotS8() {  // C += A · B, signed bytes
  __asm__ volatile("tdpbssd %%tmm%c0, %%tmm%c1, %%tmm%c2" ::"i"(B), "i"(A), "i"(C));
}

// Tile registers, two sets used by alternate blocks so that the tile unit computes block b + 1
// while the vector units scale block b's sums: set 0 is B in tmm0, A in tmm1, C in tmm2; set 1
// is tmm3, tmm4, tmm5. A and C tiles hold 16 activation rows.
constexpr int kTileRows = 16;     // activation rows per A / C tile, weight rows per B tile
constexpr int kMaxRowTiles = 4;   // activation row tiles per call chunk (MatMul's 64 rows)
constexpr int kChunkBlocks = 64;  // blocks whose B tiles are prepared at once (32 KB)
constexpr int kBTileBytes = 8 * 64;

// LDTILECFG's 64-byte operand (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// k: quants per tile product (32, or 16 for Q6_K's 16-element sub-blocks).
TileConfig MakeTileConfig(int k) {
  TileConfig c;
  for (int set = 0; set < 2; ++set) {
    const int t = 3 * set;
    c.rows[t] = static_cast<uint8_t>(k / 4);  // B: k quants of 16 weight rows, 4 per row each
    c.colsb[t] = 64;
    c.rows[t + 1] = kTileRows;  // A: 16 activation rows x k quants
    c.colsb[t + 1] = static_cast<uint16_t>(k);
    c.rows[t + 2] = kTileRows;  // C: 16 activation rows x 16 int32 sums
    c.colsb[t + 2] = 64;
  }
  return c;
}
const TileConfig kTileConfig32 = MakeTileConfig(32);
const TileConfig kTileConfig16 = MakeTileConfig(16);

// Two groups' 32-byte vectors side by side: the 16 weight rows of a pair in one register.
inline __m512i Pair(__m256i g0, __m256i g1) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(g0), g1, 1);
}
inline __m512i LoadPair(const uint8_t* p0, const uint8_t* p1) {
  return Pair(Load32(p0), Load32(p1));
}

// The IQ4_NL codebook in every 128-bit lane, for vpshufb.
inline __m512i IQ4NLTable() {
  return _mm512_broadcast_i32x4(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::kIQ4NLValues)));
}

// Q8_0: the two groups' quant vectors side by side.
struct Q8_0Format {
  static constexpr int kGroupBlock = kQ8GroupBlock;
  static inline void PrepareB(const uint8_t* g0, const uint8_t* g1, int8_t* b) {
    for (int j = 0; j < 8; ++j) {
      _mm512_store_si512(b + 64 * j, LoadPair(g0 + 16 + 32 * j, g1 + 16 + 32 * j));
    }
  }
};

// The nibble formats without a minimum. Chunk j's low nibbles are elements 4j..4j+3 (B row
// j), its high ones 16+4j.. (B row 4 + j), turned into the signed values: Q4_0 minus its
// offset 8, Q5_0 with the fifth bits OR-ed in minus 16, IQ4_NL through its codebook; so the
// sums need no offset correction.
enum class Nibbles { kQ4_0, kQ5_0, kIQ4_NL };
template <Nibbles kKind>
struct NibbleFormat {
  static constexpr int kGroupBlock = kKind == Nibbles::kQ5_0 ? 176 : kQ4GroupBlock;
  static inline void PrepareB(const uint8_t* g0, const uint8_t* g1, int8_t* b) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i table = IQ4NLTable();
    for (int j = 0; j < 4; ++j) {
      const __m512i v = LoadPair(g0 + 16 + 32 * j, g1 + 16 + 32 * j);
      __m512i lo = _mm512_and_si512(v, m4);
      __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
      if constexpr (kKind == Nibbles::kQ4_0) {
        lo = _mm512_sub_epi8(lo, _mm512_set1_epi8(8));
        hi = _mm512_sub_epi8(hi, _mm512_set1_epi8(8));
      } else if constexpr (kKind == Nibbles::kQ5_0) {
        __m256i lo0, hi0, lo1, hi1;
        FifthBits(g0 + 16 + 128 + 8 * j, &lo0, &hi0);
        FifthBits(g1 + 16 + 128 + 8 * j, &lo1, &hi1);
        lo = _mm512_sub_epi8(_mm512_or_si512(lo, Pair(lo0, lo1)), _mm512_set1_epi8(16));
        hi = _mm512_sub_epi8(_mm512_or_si512(hi, Pair(hi0, hi1)), _mm512_set1_epi8(16));
      } else {
        lo = _mm512_shuffle_epi8(table, lo);
        hi = _mm512_shuffle_epi8(table, hi);
      }
      _mm512_store_si512(b + 64 * j, lo);
      _mm512_store_si512(b + 64 * (4 + j), hi);
    }
  }
};

// The 16 weight rows' f16 scales (the two groups' headers) as f32.
inline __m512 PairScales(const uint8_t* g0, const uint8_t* g1) {
  const __m256i h = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g0))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(g1)), 1);
  return _mm512_cvtph_ps(h);
}

// Block b's products of 16 activation rows (at `quants`, a_stride apart) and the B tile at
// bq into tile set S (B, A, C in tmm 3S, 3S + 1, 3S + 2).
template <int S, int kBBytes = kBTileBytes>
inline void IssueBlock(const int8_t* bq, const uint8_t* quants, uint64_t a_stride) {
  TileLoadBytes<3 * S, kBBytes>(bq);
  TileLoad<3 * S + 1>(quants, static_cast<long>(a_stride));
  TileDotS8<3 * S + 2, 3 * S + 1, 3 * S>();
}

// Set S's sums to `sums` (16 int32 per activation row) and its C tile zeroed for the next use.
template <int S>
inline void TakeSums(int32_t* sums) {
  TileStoreBytes<3 * S + 2, kTileRows * 64>(sums);
  TileZero<3 * S + 2>();
}

// One block's int32 sums into the f32 accumulators of 16 activation rows. A fold over the row
// indices rather than a loop: constant indices keep acc[] in registers (GCC leaves an array
// indexed in a loop on the stack, even when it unrolls the loop later).
template <int... I>
inline void ScaleBlock(std::integer_sequence<int, I...>, const int32_t* sums, __m512 dw,
                       const uint8_t* info, uint64_t info_stride, int64_t b, __m512* acc) {
  ((acc[I] = _mm512_fmadd_ps(
        _mm512_mul_ps(dw, _mm512_set1_ps(InfoOf<ActBlockInfo>(info, info_stride, I)[b].d)),
        _mm512_cvtepi32_ps(_mm512_load_si512(sums + 16 * I)), acc[I])),
   ...);
}
using RowIndices = std::make_integer_sequence<int, kTileRows>;

// 16 activation rows x blocks [b0, b0 + nb) of a pair of groups (16 weight rows), B tiles
// prepared at bq, into acc. Software pipelined so that no step waits on memory just written:
// step s issues block s to the tile unit, stores block s - 1's sums and scales block s - 2's
// (a vector load of sums the tile unit has just stored stalls until the store completes).
template <class F, int... I>
void RowTileBlocks(std::integer_sequence<int, I...> rows, int64_t b0, int64_t nb, const int8_t* bq,
                   const uint8_t* g0, const uint8_t* g1, const uint8_t* a, uint64_t a_stride,
                   const uint8_t* info, uint64_t info_stride, const float* from, float* out,
                   int64_t ldo, float* partial) {
  // acc[] is only ever indexed by constants (the folds), so it lives in registers.
  __m512 acc[kTileRows];
  ((acc[I] = from ? _mm512_load_ps(from + 16 * I) : _mm512_setzero_ps()), ...);
  alignas(64) int32_t sums[2][kTileRows * 16];
  // always_inline: GCC keeps acc[] on the stack when the lambda is inlined too late.
  auto step = [&](auto parity, int64_t s) __attribute__((always_inline)) {
    constexpr int P = decltype(parity)::value;
    if (s < nb) {
      IssueBlock<P>(bq + s * kBTileBytes,
                    a + (b0 + s) * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs), a_stride);
    }
    if (s >= 1 && s - 1 < nb) TakeSums<1 - P>(sums[1 - P]);
    if (s >= 2 && s - 2 < nb) {
      const int64_t b = b0 + s - 2;
      ScaleBlock(rows, sums[P], PairScales(g0 + b * F::kGroupBlock, g1 + b * F::kGroupBlock), info,
                 info_stride, b, acc);
    }
  };
  for (int64_t s = 0; s < nb + 2; s += 2) {  // steps 0 .. nb + 1 (+ 1 empty when nb is odd)
    step(std::integral_constant<int, 0>{}, s);
    step(std::integral_constant<int, 1>{}, s + 1);
  }
  if (out != nullptr) {
    (_mm512_storeu_ps(out + I * ldo, acc[I]), ...);
  } else {
    (_mm512_store_ps(partial + 16 * I, acc[I]), ...);
  }
}

// Activation rows [0, 16 * row_tiles) against one pair of groups (16 weight rows): the B
// tiles of up to kChunkBlocks blocks are prepared once and serve every row tile.
template <class F>
void PairRows(int64_t nb, const uint8_t* g0, const uint8_t* g1, const uint8_t* a, uint64_t a_stride,
              const uint8_t* info, uint64_t info_stride, int row_tiles, float* out, int64_t ldo) {
  alignas(64) int8_t bq[kChunkBlocks * kBTileBytes];
  alignas(64) float partial[kMaxRowTiles][kTileRows * 16];  // sums so far, K in chunks
  for (int64_t b0 = 0; b0 < nb; b0 += kChunkBlocks) {
    const int64_t n = std::min<int64_t>(kChunkBlocks, nb - b0);
    for (int64_t b = 0; b < n; ++b)
      F::PrepareB(g0 + (b0 + b) * F::kGroupBlock, g1 + (b0 + b) * F::kGroupBlock,
                  bq + b * kBTileBytes);
    for (int t = 0; t < row_tiles; ++t) {
      const uint64_t r = static_cast<uint64_t>(t) * kTileRows;
      const bool first = b0 == 0, last = b0 + n == nb;
      RowTileBlocks<F>(RowIndices{}, b0, n, bq, g0, g1, a + r * a_stride, a_stride,
                       info + r * info_stride, info_stride, first ? nullptr : partial[t],
                       last ? out + static_cast<int64_t>(r) * ldo : nullptr, ldo, partial[t]);
    }
  }
}

// The 32-element formats' entry for AmxGemmPacked.
template <class F>
struct Blocks32 : F {
  static constexpr int kBlockElems = 32;
  static constexpr int kTileK = 32;
  static void PairRows(int64_t nb, const uint8_t* g0, const uint8_t* g1, const uint8_t* a,
                       uint64_t a_stride, const uint8_t* info, uint64_t info_stride, int row_tiles,
                       float* out, int64_t ldo) {
    pocket::kernels::PairRows<F>(nb, g0, g1, a, a_stride, info, info_stride, row_tiles, out, ldo);
  }
};

// The K-quants: 256-element super-blocks of sub-blocks with an integer scale per row. One
// tile product per sub-block (kSubElems = kTileK quants), its int32 sums multiplied by the
// rows' scales and added up over the super-block in registers, then the AVX-512 tile's f32
// epilogue (Parts::Epilogue) once per super-block. Parts supplies the layout:
//   kSubBlocks, kGroupBlock; Prepare (the B tiles of n super-blocks, sub-block order);
//   Scales (one sub-block's 16 row scales as int32); Epilogue (constructed per super-block
//   and pair, then applied per activation row).
template <class Parts>
struct SuperBlocks : Parts {
  static constexpr int kBlockElems = 256;
  static constexpr int kSubBlocks = Parts::kSubBlocks;
  static constexpr int kTileK = 256 / kSubBlocks;
  static constexpr int kBBytes = Parts::kBBytes;
  static_assert(kBBytes == kTileK / 4 * 64, "a B tile: kTileK quants of 16 rows");
  static constexpr int kGroupBlock = Parts::kGroupBlock;

  template <int... I>
  static void RowTile(std::integer_sequence<int, I...>, int64_t b0, int64_t nb, const int8_t* bq,
                      const uint8_t* g0, const uint8_t* g1, const uint8_t* a, uint64_t a_stride,
                      const uint8_t* info, uint64_t info_stride, float* acc) {
    __m512i s32[kTileRows];
    ((s32[I] = _mm512_setzero_si512()), ...);
    alignas(64) int32_t sums[2][kTileRows * 16];
    const int64_t steps = nb * kSubBlocks;
    auto step = [&](auto parity, int64_t s) __attribute__((always_inline)) {
      constexpr int P = decltype(parity)::value;
      if (s < steps) {
        const int64_t b = b0 + s / kSubBlocks;
        IssueBlock<P, kBBytes>(
            bq + s * kBBytes,
            a + b * sizeof(BlockQ8_K) + offsetof(BlockQ8_K, qs) + kTileK * (s % kSubBlocks),
            a_stride);
      }
      if (s >= 1 && s - 1 < steps) TakeSums<1 - P>(sums[1 - P]);
      if (s >= 2 && s - 2 < steps) {
        const int64_t b = b0 + (s - 2) / kSubBlocks;
        const int sb = static_cast<int>((s - 2) % kSubBlocks);
        const uint8_t* w0 = g0 + b * kGroupBlock;
        const uint8_t* w1 = g1 + b * kGroupBlock;
        const __m512i scale = Parts::Scales(w0, w1, sb);
        ((s32[I] = _mm512_add_epi32(
              s32[I], _mm512_mullo_epi32(_mm512_load_si512(sums[P] + 16 * I), scale))),
         ...);
        if (sb == kSubBlocks - 1) {
          const typename Parts::Epilogue epilogue(w0, w1);
          (epilogue(InfoOf<ActSuperBlockInfo>(info, info_stride, I)[b], s32[I], acc + 16 * I), ...);
          ((s32[I] = _mm512_setzero_si512()), ...);
        }
      }
    };
    for (int64_t s = 0; s < steps + 2; s += 2) {  // steps is even
      step(std::integral_constant<int, 0>{}, s);
      step(std::integral_constant<int, 1>{}, s + 1);
    }
  }

  // Activation rows [0, 16 * row_tiles) against one pair of groups, the B tiles of up to
  // kChunkBlocks sub-blocks prepared at once; the f32 accumulators stay in memory (they change
  // once per super-block), the int32 super-block sums in registers.
  static void PairRows(int64_t nb, const uint8_t* g0, const uint8_t* g1, const uint8_t* a,
                       uint64_t a_stride, const uint8_t* info, uint64_t info_stride, int row_tiles,
                       float* out, int64_t ldo) {
    constexpr int64_t kChunk = kChunkBlocks / kSubBlocks;  // super-blocks per chunk
    alignas(64) int8_t bq[kChunkBlocks * kBBytes];
    alignas(64) float acc[kMaxRowTiles][kTileRows * 16];
    for (int t = 0; t < row_tiles; ++t)
      for (int i = 0; i < kTileRows; ++i) _mm512_store_ps(acc[t] + 16 * i, _mm512_setzero_ps());
    for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
      const int64_t n = std::min<int64_t>(kChunk, nb - b0);
      Parts::Prepare(g0, g1, b0, n, bq);
      for (int t = 0; t < row_tiles; ++t) {
        const uint64_t r = static_cast<uint64_t>(t) * kTileRows;
        RowTile(RowIndices{}, b0, n, bq, g0, g1, a + r * a_stride, a_stride, info + r * info_stride,
                info_stride, acc[t]);
      }
    }
    for (int t = 0; t < row_tiles; ++t)
      for (int i = 0; i < kTileRows; ++i)
        _mm512_storeu_ps(out + (t * kTileRows + i) * ldo, _mm512_load_ps(acc[t] + 16 * i));
  }
};

// Eight bytes per group at offset `at` of each group-block, as 16 int32 lanes (unsigned or
// signed bytes).
inline __m128i PairBytes8(const uint8_t* w0, const uint8_t* w1, int at) {
  return _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w0 + at)),
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w1 + at)));
}

// Q4_K / Q5_K: sub-block 2p is the low nibbles of quant vectors 8p..8p+7, 2p + 1 the high
// ones (Q5_K: with the fifth bits OR-ed in); 6-bit scales and minimums; the epilogue of
// VnniQ4Q5_K (the minimums' sum is exact in f32, so its order does not matter).
template <bool kFifth>
struct Q4Q5_KParts {
  static constexpr int kSubBlocks = 8;
  static constexpr int kGroupBlock = kFifth ? kQ5KGroupBlock : kQ4KGroupBlock;
  static constexpr int kBBytes = 8 * 64;

  static void Prepare(const uint8_t* g0, const uint8_t* g1, int64_t b0, int64_t n, int8_t* bq) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t b = 0; b < n; ++b) {
      const uint8_t* w0 = g0 + (b0 + b) * kGroupBlock;
      const uint8_t* w1 = g1 + (b0 + b) * kGroupBlock;
      int8_t* dst = bq + b * kSubBlocks * kBBytes;
      for (int v = 0; v < 32; ++v) {  // quant vector v = 8p + j: row j of sub-blocks 2p, 2p + 1
        const int p = v / 8, j = v % 8;
        const __m512i raw = LoadPair(w0 + 160 + 32 * v, w1 + 160 + 32 * v);
        __m512i lo = _mm512_and_si512(raw, m4);
        __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
        if constexpr (kFifth) {
          __m256i lo0, hi0, lo1, hi1;
          FifthBits(w0 + 1184 + 8 * v, &lo0, &hi0);
          FifthBits(w1 + 1184 + 8 * v, &lo1, &hi1);
          lo = _mm512_or_si512(lo, Pair(lo0, lo1));
          hi = _mm512_or_si512(hi, Pair(hi0, hi1));
        }
        _mm512_store_si512(dst + (2 * p) * kBBytes + 64 * j, lo);
        _mm512_store_si512(dst + (2 * p + 1) * kBBytes + 64 * j, hi);
      }
    }
  }
  static __m512i Scales(const uint8_t* w0, const uint8_t* w1, int sb) {
    return _mm512_cvtepu8_epi32(PairBytes8(w0, w1, 32 + 8 * sb));
  }
  struct Epilogue {
    __m512 d, dmin, mins[kSubBlocks];
    Epilogue(const uint8_t* w0, const uint8_t* w1)
        : d(PairScales(w0, w1)), dmin(PairScales(w0 + 16, w1 + 16)) {
      for (int sb = 0; sb < kSubBlocks; ++sb)
        mins[sb] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(PairBytes8(w0, w1, 96 + 8 * sb)));
    }
    void operator()(const ActSuperBlockInfo& in, __m512i s32, float* acc) const {
      const __m512 da = _mm512_set1_ps(in.d);
      __m512 part[2];
      for (int sb = 0; sb < 2; ++sb)
        part[sb] = _mm512_mul_ps(mins[sb], _mm512_set1_ps(in.sums[sb]));
      for (int sb = 2; sb < kSubBlocks; ++sb)
        part[sb % 2] = _mm512_fmadd_ps(mins[sb], _mm512_set1_ps(in.sums[sb]), part[sb % 2]);
      __m512 v =
          _mm512_fmadd_ps(_mm512_mul_ps(d, da), _mm512_cvtepi32_ps(s32), _mm512_load_ps(acc));
      v = _mm512_fnmadd_ps(_mm512_mul_ps(dmin, da), _mm512_add_ps(part[0], part[1]), v);
      _mm512_store_ps(acc, v);
    }
  };
};

// The K-quant epilogue without minimums (IQ4_XS, Q6_K): acc = fma(d · da, float(s32), acc).
struct ScaleOnlyEpilogue {
  __m512 d;
  ScaleOnlyEpilogue(const uint8_t* w0, const uint8_t* w1) : d(PairScales(w0, w1)) {}
  void operator()(const ActSuperBlockInfo& in, __m512i s32, float* acc) const {
    _mm512_store_ps(acc, _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(in.d)),
                                         _mm512_cvtepi32_ps(s32), _mm512_load_ps(acc)));
  }
};

// IQ4_XS: eight 32-element sub-blocks; quant vector 4s + j holds bytes 16s + 4j.. of each
// row: its low nibbles are B row j of sub-block s, its high ones B row 4 + j, both through
// the IQ4_NL codebook. Signed 6-bit scales (ls - 32, stored as int8); the epilogue of the
// AVX2 and VNNI tiles.
struct IQ4_XSParts {
  static constexpr int kSubBlocks = 8;
  static constexpr int kGroupBlock = kIQ4XSGroupBlock;
  static constexpr int kBBytes = 8 * 64;

  static void Prepare(const uint8_t* g0, const uint8_t* g1, int64_t b0, int64_t n, int8_t* bq) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i table = IQ4NLTable();
    for (int64_t b = 0; b < n; ++b) {
      const uint8_t* w0 = g0 + (b0 + b) * kGroupBlock + 80;
      const uint8_t* w1 = g1 + (b0 + b) * kGroupBlock + 80;
      int8_t* dst = bq + b * kSubBlocks * kBBytes;
      for (int v = 0; v < 32; ++v) {  // quant vector v = 4s + j
        const int sb = v / 4, j = v % 4;
        const __m512i raw = LoadPair(w0 + 32 * v, w1 + 32 * v);
        const __m512i lo = _mm512_shuffle_epi8(table, _mm512_and_si512(raw, m4));
        const __m512i hi =
            _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4));
        _mm512_store_si512(dst + sb * kBBytes + 64 * j, lo);
        _mm512_store_si512(dst + sb * kBBytes + 64 * (4 + j), hi);
      }
    }
  }
  static __m512i Scales(const uint8_t* w0, const uint8_t* w1, int sb) {
    return _mm512_cvtepi8_epi32(PairBytes8(w0, w1, 16 + 8 * sb));
  }
  using Epilogue = ScaleOnlyEpilogue;
};

// Q6_K: sixteen 16-element sub-blocks; sub-block s = 8h + 2k + j0/4 is code k of triples
// 8h + j0 .. 8h + j0 + 3 (B rows 0..3), i.e. elements [16s, 16s + 16). The codes go into the
// B tiles minus 32 (int8), so the sums need no offset correction: Σ scale · Σ (q - 32) · a is
// the integer VnniQ6_K computes as Σ scale · Σ q · a - 32 · Σ scale · asum16.
struct Q6_KParts {
  static constexpr int kSubBlocks = 16;
  static constexpr int kGroupBlock = kQ6KGroupBlock;
  static constexpr int kBBytes = 4 * 64;

  static void Prepare(const uint8_t* g0, const uint8_t* g1, int64_t b0, int64_t n, int8_t* bq) {
    const __m512i m63 = _mm512_set1_epi8(0x3F), m3 = _mm512_set1_epi8(0x03),
                  m12 = _mm512_set1_epi8(0x0C), m48 = _mm512_set1_epi8(0x30),
                  k32 = _mm512_set1_epi8(32);
    for (int64_t b = 0; b < n; ++b) {
      const uint8_t* w0 = g0 + (b0 + b) * kGroupBlock + 144;
      const uint8_t* w1 = g1 + (b0 + b) * kGroupBlock + 144;
      int8_t* dst = bq + b * kSubBlocks * kBBytes;
      for (int t = 0; t < 16; ++t) {  // triple t = 8h + j
        const int h = t / 8, j = t % 8;
        const __m512i x0 = LoadPair(w0 + 96 * t, w1 + 96 * t);
        const __m512i x1 = LoadPair(w0 + 96 * t + 32, w1 + 96 * t + 32);
        const __m512i x2 = LoadPair(w0 + 96 * t + 64, w1 + 96 * t + 64);
        const __m512i q[4] = {
            _mm512_and_si512(x0, m63), _mm512_and_si512(x1, m63), _mm512_and_si512(x2, m63),
            _mm512_or_si512(_mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(x0, 6), m3),
                                            _mm512_and_si512(_mm512_srli_epi16(x1, 4), m12)),
                            _mm512_and_si512(_mm512_srli_epi16(x2, 2), m48))};
        for (int k = 0; k < 4; ++k) {
          const int s = 8 * h + 2 * k + j / 4;
          _mm512_store_si512(dst + s * kBBytes + 64 * (j % 4), _mm512_sub_epi8(q[k], k32));
        }
      }
    }
  }
  static __m512i Scales(const uint8_t* w0, const uint8_t* w1, int sb) {
    return _mm512_cvtepi8_epi32(PairBytes8(w0, w1, 16 + 8 * sb));
  }
  using Epilogue = ScaleOnlyEpilogue;
};

// Set by FillAmxKernels (before the table is published) to the AVX-512 entries this table
// replaces; read-only afterwards.
GemmPackedFn g_fallback[kMaxTypeId] = {};

template <class F, DType kType>
void AmxGemmPacked(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                   const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  const GemmPackedFn fallback = g_fallback[static_cast<int>(kType)];
  const int row_tiles = nc / kTileRows;
  const int pairs = n_groups / 2;
  if (row_tiles == 0 || pairs == 0) {
    fallback(n, w, n_groups, a, a_stride, info, info_stride, nc, out, ldo);
    return;
  }
  const int64_t nb = n / F::kBlockElems;
  const uint64_t group_bytes = static_cast<uint64_t>(nb) * F::kGroupBlock;
  _tile_loadconfig(F::kTileK == 16 ? &kTileConfig16 : &kTileConfig32);
  TileZero<2>();
  TileZero<5>();
  for (int p = 0; p < pairs; ++p) {
    const uint8_t* g0 = w + 2 * p * group_bytes;
    for (int t = 0; t < row_tiles; t += kMaxRowTiles) {
      const uint64_t r = static_cast<uint64_t>(t) * kTileRows;
      F::PairRows(nb, g0, g0 + group_bytes, a + r * a_stride, a_stride, info + r * info_stride,
                  info_stride, std::min(kMaxRowTiles, row_tiles - t),
                  out + static_cast<int64_t>(r) * ldo + 16 * p, ldo);
    }
  }
  _tile_release();
  // The activation rows past the last full tile, and an odd last group, on the AVX-512 tiles.
  const int done = row_tiles * kTileRows;
  if (done < nc) {
    fallback(n, w, 2 * pairs, a + static_cast<uint64_t>(done) * a_stride, a_stride,
             info + static_cast<uint64_t>(done) * info_stride, info_stride, nc - done,
             out + static_cast<int64_t>(done) * ldo, ldo);
  }
  if (n_groups % 2 != 0) {
    fallback(n, w + (n_groups - 1) * group_bytes, 1, a, a_stride, info, info_stride, nc,
             out + (n_groups - 1) * kPackRows, ldo);
  }
}

}  // namespace

void FillAmxKernels(KernelTable* t) {
  t->isa = Isa::kAmx;
  auto set = [t](DType type, GemmPackedFn fn) {
    const int id = static_cast<int>(type);
    g_fallback[id] = t->gemm_packed[id];
    t->gemm_packed[id] = fn;
  };
  set(DType::kQ8_0, AmxGemmPacked<Blocks32<Q8_0Format>, DType::kQ8_0>);
  set(DType::kQ4_0, AmxGemmPacked<Blocks32<NibbleFormat<Nibbles::kQ4_0>>, DType::kQ4_0>);
  set(DType::kQ5_0, AmxGemmPacked<Blocks32<NibbleFormat<Nibbles::kQ5_0>>, DType::kQ5_0>);
  set(DType::kIQ4_NL, AmxGemmPacked<Blocks32<NibbleFormat<Nibbles::kIQ4_NL>>, DType::kIQ4_NL>);
  set(DType::kQ4_K, AmxGemmPacked<SuperBlocks<Q4Q5_KParts<false>>, DType::kQ4_K>);
  set(DType::kQ5_K, AmxGemmPacked<SuperBlocks<Q4Q5_KParts<true>>, DType::kQ5_K>);
  set(DType::kQ6_K, AmxGemmPacked<SuperBlocks<Q6_KParts>, DType::kQ6_K>);
  set(DType::kIQ4_XS, AmxGemmPacked<SuperBlocks<IQ4_XSParts>, DType::kIQ4_XS>);
}

}  // namespace pocket::kernels
