// AMX packed GEMM (layout in kernels/packed.h): the tile unit's int8 dot products (TDPBSSD,
// 16 x 16 x 32 multiply-adds per instruction) for chunks of 16+ activation rows, over pairs
// of packed row groups. Everything else (decode, the last < 16 activation rows, an odd last
// row group, every other type and kernel) is the AVX-512 table's, which this table copies.
//
// Why the shapes: the 32-element formats scale every block, so an integer sum may run over
// one block only (K = 32 per instruction). A pair of eight-row groups gives 16 weight rows:
// their quants, four bytes of each row side by side, are exactly a B tile's rows (8 rows x 64
// bytes), interleaved (Q8_0) or unpacked from nibbles (Q4_0) into a small buffer per block.
// Each block's int32 sums (C tiles of 16 activation rows x 16 weight rows) go through the
// same f32 epilogue as every other table, acc = fma(dw · da, float(sum), acc) in block
// order, so the results equal the scalar reference bit for bit.
//
// Tile state is per thread: each call loads the configuration and releases the tiles at its
// end (about a microsecond against the milliseconds of work a call covers). Compiled with the
// AVX-512 flags plus -mamx-tile -mamx-int8; only reached where cpu_features found AMX usable.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/table_fill.h"
#include "kernels/x86/packed_frame.h"

namespace pocket::kernels {
namespace {

// Tile registers, two sets used by alternate blocks so that the tile unit computes block b + 1
// while the vector units scale block b's sums: set 0 is B in tmm0, A in tmm1 and the C
// accumulators in tmm2, tmm3; set 1 is tmm6, tmm7 and tmm4, tmm5. A and C tiles hold 16
// activation rows, so a chunk is 16 or 32 activation rows. GCC's tile intrinsics paste their
// register operands into the assembly text, so the numbers are literals below.
constexpr int kMaxRowTiles = 2;
constexpr int kTileRows = 16;  // activation rows per A / C tile, weight rows per B tile

// LDTILECFG's 64-byte operand (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

TileConfig MakeTileConfig() {
  TileConfig c;
  for (int t : {0, 6}) {  // B: 32 quants of 16 weight rows, four of each row per 64-byte row
    c.rows[t] = 8;
    c.colsb[t] = 64;
  }
  for (int t : {1, 7}) {  // A: 16 activation rows x 32 quants
    c.rows[t] = kTileRows;
    c.colsb[t] = 32;
  }
  for (int t = 2; t < 6; ++t) {  // C: 16 activation rows x 16 int32 sums
    c.rows[t] = kTileRows;
    c.colsb[t] = 64;
  }
  return c;
}
const TileConfig kTileConfig = MakeTileConfig();

// Q8_0: the two groups' quant vectors side by side.
struct Q8_0Format {
  static constexpr int kGroupBlock = kQ8GroupBlock;
  static inline void PrepareB(const uint8_t* g0, const uint8_t* g1, int8_t* b) {
    for (int j = 0; j < 8; ++j) {
      const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(Load32(g0 + 16 + 32 * j)),
                                           Load32(g1 + 16 + 32 * j), 1);
      _mm512_store_si512(b + 64 * j, v);
    }
  }
};

// Q4_0: chunk j's low nibbles are elements 4j..4j+3 (B row j), its high ones 16+4j.. (B row
// 4 + j), each minus the offset 8 so the sums need no correction.
struct Q4_0Format {
  static constexpr int kGroupBlock = kQ4GroupBlock;
  static inline void PrepareB(const uint8_t* g0, const uint8_t* g1, int8_t* b) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
    for (int j = 0; j < 4; ++j) {
      const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(Load32(g0 + 16 + 32 * j)),
                                           Load32(g1 + 16 + 32 * j), 1);
      const __m512i lo = _mm512_sub_epi8(_mm512_and_si512(v, m4), eight);
      const __m512i hi = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), eight);
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

inline const uint8_t* BlockQuants(const uint8_t* a, uint64_t a_stride, int m, int64_t b) {
  return a + static_cast<uint64_t>(m * kTileRows) * a_stride + b * sizeof(BlockQ8_0) +
         offsetof(BlockQ8_0, qs);
}

// Block b's products into tile set S: B from the prepared buffer, then each row tile's A.
template <int S, int NT>
inline void IssueBlock(const int8_t* bq, const uint8_t* a, uint64_t a_stride, int64_t b) {
  const long stride = static_cast<long>(a_stride);
  if constexpr (S == 0) {
    _tile_loadd(0, bq, 64);
    _tile_loadd(1, BlockQuants(a, a_stride, 0, b), stride);
    _tile_dpbssd(2, 1, 0);
    if constexpr (NT > 1) {
      _tile_loadd(1, BlockQuants(a, a_stride, 1, b), stride);
      _tile_dpbssd(3, 1, 0);
    }
  } else {
    _tile_loadd(6, bq, 64);
    _tile_loadd(7, BlockQuants(a, a_stride, 0, b), stride);
    _tile_dpbssd(4, 7, 6);
    if constexpr (NT > 1) {
      _tile_loadd(7, BlockQuants(a, a_stride, 1, b), stride);
      _tile_dpbssd(5, 7, 6);
    }
  }
}

// Set S's sums to `sums` (16 int32 per activation row) and its C tiles zeroed for the next use.
template <int S, int NT>
inline void TakeSums(int32_t* sums) {
  if constexpr (S == 0) {
    _tile_stored(2, sums, 64);
    _tile_zero(2);
    if constexpr (NT > 1) {
      _tile_stored(3, sums + kTileRows * 16, 64);
      _tile_zero(3);
    }
  } else {
    _tile_stored(4, sums, 64);
    _tile_zero(4);
    if constexpr (NT > 1) {
      _tile_stored(5, sums + kTileRows * 16, 64);
      _tile_zero(5);
    }
  }
}

// One block's int32 sums into the f32 accumulators of the chunk's 16 * NT activation rows.
template <int NT>
inline void ScaleBlock(const int32_t* sums, __m512 dw, const uint8_t* info, uint64_t info_stride,
                       int64_t b, float* acc) {
  for (int i = 0; i < NT * kTileRows; ++i) {
    const float da = InfoOf<ActBlockInfo>(info, info_stride, i)[b].d;
    const __m512 total = _mm512_cvtepi32_ps(_mm512_load_si512(sums + 16 * i));
    _mm512_store_ps(acc + 16 * i, _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(da)), total,
                                                  _mm512_load_ps(acc + 16 * i)));
  }
}

// Activation rows [0, 16 * NT) against one pair of groups (16 weight rows), software
// pipelined so that no step waits on memory just written: in step b the weights of block
// b + 2 are prepared, block b is issued to the tile unit, block b - 1's sums are stored and
// block b - 2's are scaled (a tile load of bytes stored a moment ago, or a vector load of
// sums the tile unit has just stored, stalls until the stores reach the cache).
template <class F, int NT>
void PairChunk(int64_t nb, const uint8_t* g0, const uint8_t* g1, const uint8_t* a,
               uint64_t a_stride, const uint8_t* info, uint64_t info_stride, float* out,
               int64_t ldo) {
  constexpr int kSums = NT * kTileRows * 16;
  alignas(64) int8_t bq[4][8 * 64];
  alignas(64) int32_t sums[2][kSums];
  alignas(64) float acc[NT * kTileRows * 16];
  for (int i = 0; i < NT * kTileRows; ++i) _mm512_store_ps(acc + 16 * i, _mm512_setzero_ps());
  _tile_zero(2);
  _tile_zero(3);
  _tile_zero(4);
  _tile_zero(5);
  auto prepare = [&](int64_t b) {
    if (b < nb) F::PrepareB(g0 + b * F::kGroupBlock, g1 + b * F::kGroupBlock, bq[b & 3]);
  };
  // Step b, with P = b % 2 as a constant: tile set P issues block b, set 1 - P gives back
  // block b - 1's sums.
  auto step = [&](auto parity, int64_t b) {
    constexpr int P = decltype(parity)::value;
    prepare(b + 2);
    if (b < nb) IssueBlock<P, NT>(bq[b & 3], a, a_stride, b);
    if (b >= 1 && b - 1 < nb) TakeSums<1 - P, NT>(sums[1 - P]);
    if (b >= 2 && b - 2 < nb) {
      const int64_t s = b - 2;
      const __m512 dw = PairScales(g0 + s * F::kGroupBlock, g1 + s * F::kGroupBlock);
      ScaleBlock<NT>(sums[P], dw, info, info_stride, s, acc);
    }
  };
  prepare(0);
  prepare(1);
  for (int64_t b = 0; b < nb + 2; b += 2) {  // steps 0 .. nb + 1 (+ 1 empty when nb is odd)
    step(std::integral_constant<int, 0>{}, b);
    step(std::integral_constant<int, 1>{}, b + 1);
  }
  for (int i = 0; i < NT * kTileRows; ++i)
    _mm512_storeu_ps(out + i * ldo, _mm512_load_ps(acc + 16 * i));
}

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
  const int64_t nb = n / 32;
  const uint64_t group_bytes = static_cast<uint64_t>(nb) * F::kGroupBlock;
  _tile_loadconfig(&kTileConfig);
  for (int p = 0; p < pairs; ++p) {
    const uint8_t* g0 = w + 2 * p * group_bytes;
    for (int t = 0; t < row_tiles; t += kMaxRowTiles) {
      const uint64_t r = static_cast<uint64_t>(t) * kTileRows;
      const uint8_t* at = a + r * a_stride;
      const uint8_t* it = info + r * info_stride;
      float* ot = out + static_cast<int64_t>(r) * ldo + 16 * p;
      if (row_tiles - t >= 2) {
        PairChunk<F, 2>(nb, g0, g0 + group_bytes, at, a_stride, it, info_stride, ot, ldo);
      } else {
        PairChunk<F, 1>(nb, g0, g0 + group_bytes, at, a_stride, it, info_stride, ot, ldo);
      }
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
  set(DType::kQ8_0, AmxGemmPacked<Q8_0Format, DType::kQ8_0>);
  set(DType::kQ4_0, AmxGemmPacked<Q4_0Format, DType::kQ4_0>);
}

}  // namespace pocket::kernels
