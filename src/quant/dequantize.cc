// Scalar dequantizers. Arithmetic order follows the block formats' definition (scale products
// first, no fused multiply-add: this file is compiled with -ffp-contract=off) so results are
// bit-identical to ggml's to_float.
#include <cstring>

#include "quant/blocks.h"
#include "quant/quant.h"
#include "tensor/fp16.h"

namespace pocket {
namespace {

using namespace quant;  // NOLINT: block layouts

template <typename Block>
const Block* Blocks(const void* p) {
  return static_cast<const Block*>(p);
}

void DeqQ4_0(const void* src, float* y, int64_t nb) {
  const BlockQ4_0* x = Blocks<BlockQ4_0>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void DeqQ4_1(const void* src, float* y, int64_t nb) {
  const BlockQ4_1* x = Blocks<BlockQ4_1>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    const float m = F16ToF32(x[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
      y[j + 16] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
    }
  }
}

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void DeqQ5_0(const void* src, float* y, int64_t nb) {
  const BlockQ5_0* x = Blocks<BlockQ5_0>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    const uint32_t qh = LoadU32(x[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      y[j] = static_cast<float>(((x[i].qs[j] & 0x0F) | h0) - 16) * d;
      y[j + 16] = static_cast<float>(((x[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void DeqQ5_1(const void* src, float* y, int64_t nb) {
  const BlockQ5_1* x = Blocks<BlockQ5_1>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    const float m = F16ToF32(x[i].m);
    const uint32_t qh = LoadU32(x[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) | h0) * d + m;
      y[j + 16] = static_cast<float>((x[i].qs[j] >> 4) | h1) * d + m;
    }
  }
}

void DeqQ8_0(const void* src, float* y, int64_t nb) {
  const BlockQ8_0* x = Blocks<BlockQ8_0>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void DeqQ8_1(const void* src, float* y, int64_t nb) {
  const BlockQ8_1* x = Blocks<BlockQ8_1>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void DeqIQ4NL(const void* src, float* y, int64_t nb) {
  const BlockIQ4NL* x = Blocks<BlockIQ4NL>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(kIQ4NLValues[x[i].qs[j] & 0xF]);
      y[j + 16] = d * static_cast<float>(kIQ4NLValues[x[i].qs[j] >> 4]);
    }
  }
}

void DeqMXFP4(const void* src, float* y, int64_t nb) {
  const BlockMXFP4* x = Blocks<BlockMXFP4>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = E8M0ToF32Half(x[i].e);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>(kMXFP4Values[x[i].qs[j] & 0xF]) * d;
      y[j + 16] = static_cast<float>(kMXFP4Values[x[i].qs[j] >> 4]) * d;
    }
  }
}

void DeqQ2_K(const void* src, float* y, int64_t nb) {
  const BlockQ2_K* x = Blocks<BlockQ2_K>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = F16ToF32(x[i].d);
    const float dmin = F16ToF32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int n = 0; n < kQKK; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * static_cast<float>(sc & 0xF);
          const float ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) {
            *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
          }
        }
      }
    }
  }
}

void DeqQ3_K(const void* src, float* y, int64_t nb) {
  const BlockQ3_K* x = Blocks<BlockQ3_K>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d_all = F16ToF32(x[i].d);
    const uint8_t* b = x[i].scales;
    int8_t scales[16];
    for (int k = 0; k < 16; ++k) scales[k] = static_cast<int8_t>(ScaleQ3K(k, b));
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    uint8_t m = 1;
    int is = 0;
    for (int n = 0; n < kQKK; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * static_cast<float>(scales[is++]);
          for (int l = 0; l < 16; ++l) {
            const int idx = l + 16 * half;
            const int v = ((q[idx] >> shift) & 3) - ((hm[idx] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

void DeqQ4_K(const void* src, float* y, int64_t nb) {
  const BlockQ4_K* x = Blocks<BlockQ4_K>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = F16ToF32(x[i].d);
    const float dmin = F16ToF32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t sc, mn;
      ScaleMinK4(2 * c, x[i].scales, &sc, &mn);
      const float d1 = d * sc, m1 = dmin * mn;
      ScaleMinK4(2 * c + 1, x[i].scales, &sc, &mn);
      const float d2 = d * sc, m2 = dmin * mn;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void DeqQ5_K(const void* src, float* y, int64_t nb) {
  const BlockQ5_K* x = Blocks<BlockQ5_K>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = F16ToF32(x[i].d);
    const float dmin = F16ToF32(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    for (int c = 0; c < 4; ++c, ql += 32) {
      uint8_t sc, mn;
      ScaleMinK4(2 * c, x[i].scales, &sc, &mn);
      const float d1 = d * sc, m1 = dmin * mn;
      ScaleMinK4(2 * c + 1, x[i].scales, &sc, &mn);
      const float d2 = d * sc, m2 = dmin * mn;
      const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c)), u2 = static_cast<uint8_t>(2u << (2 * c));
      for (int l = 0; l < 32; ++l) {
        *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
      }
    }
  }
}

void DeqQ6_K(const void* src, float* y, int64_t nb) {
  const BlockQ6_K* x = Blocks<BlockQ6_K>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = F16ToF32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n = 0; n < kQKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void DeqQ8_K(const void* src, float* y, int64_t nb) {
  const BlockQ8_K* x = Blocks<BlockQ8_K>(src);
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    for (int j = 0; j < kQKK; ++j) y[j] = x[i].d * static_cast<float>(x[i].qs[j]);
  }
}

void DeqIQ4XS(const void* src, float* y, int64_t nb) {
  const BlockIQ4XS* x = Blocks<BlockIQ4XS>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = F16ToF32(x[i].d);
    for (int b = 0; b < 8; ++b, y += 32) {
      const float dl = d * static_cast<float>(ScaleIQ4XS(b, x[i]));
      const uint8_t* qs = x[i].qs + 16 * b;
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * static_cast<float>(kIQ4NLValues[qs[j] & 0xF]);
        y[j + 16] = dl * static_cast<float>(kIQ4NLValues[qs[j] >> 4]);
      }
    }
  }
}

template <typename T>
void DeqPlain(const void* src, float* y, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    y[i] = static_cast<float>(v);
  }
}

}  // namespace

bool CanDequantize(DType t) {
  const DTypeTraits* tr = GetDTypeTraits(t);
  return tr != nullptr && tr->can_dequantize;
}

Status DequantizeRow(DType t, const void* src, float* dst, int64_t n) {
  const DTypeTraits* tr = GetDTypeTraits(t);
  if (tr == nullptr) return InvalidArgument("dequantize: unknown type");
  if (n < 0 || n % tr->block_elems != 0) {
    return InvalidArgument(StrFormat("dequantize %s: %lld elements is not a whole number of blocks",
                                     tr->name, (long long)n));
  }
  const int64_t nb = n / tr->block_elems;
  switch (t) {
    case DType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); break;
    case DType::kF16: {
      const uint8_t* p = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = F16ToF32(h);
      }
      break;
    }
    case DType::kBF16: {
      const uint8_t* p = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = BF16ToF32(h);
      }
      break;
    }
    case DType::kF64: DeqPlain<double>(src, dst, n); break;
    case DType::kI8: DeqPlain<int8_t>(src, dst, n); break;
    case DType::kI16: DeqPlain<int16_t>(src, dst, n); break;
    case DType::kI32: DeqPlain<int32_t>(src, dst, n); break;
    case DType::kI64: DeqPlain<int64_t>(src, dst, n); break;
    case DType::kU8:
    case DType::kBool: DeqPlain<uint8_t>(src, dst, n); break;
    case DType::kU16: DeqPlain<uint16_t>(src, dst, n); break;
    case DType::kU32: DeqPlain<uint32_t>(src, dst, n); break;
    case DType::kU64: DeqPlain<uint64_t>(src, dst, n); break;
    case DType::kQ4_0: DeqQ4_0(src, dst, nb); break;
    case DType::kQ4_1: DeqQ4_1(src, dst, nb); break;
    case DType::kQ5_0: DeqQ5_0(src, dst, nb); break;
    case DType::kQ5_1: DeqQ5_1(src, dst, nb); break;
    case DType::kQ8_0: DeqQ8_0(src, dst, nb); break;
    case DType::kQ8_1: DeqQ8_1(src, dst, nb); break;
    case DType::kIQ4_NL: DeqIQ4NL(src, dst, nb); break;
    case DType::kMXFP4: DeqMXFP4(src, dst, nb); break;
    case DType::kQ2_K: DeqQ2_K(src, dst, nb); break;
    case DType::kQ3_K: DeqQ3_K(src, dst, nb); break;
    case DType::kQ4_K: DeqQ4_K(src, dst, nb); break;
    case DType::kQ5_K: DeqQ5_K(src, dst, nb); break;
    case DType::kQ6_K: DeqQ6_K(src, dst, nb); break;
    case DType::kQ8_K: DeqQ8_K(src, dst, nb); break;
    case DType::kIQ4_XS: DeqIQ4XS(src, dst, nb); break;
    default:
      return Unimplemented(StrFormat("dequantizing %s is not supported", tr->name));
  }
  return Status::Ok();
}

}  // namespace pocket
