// Scalar block unpacking shared by the scalar kernels and the ISA fallbacks: a legacy
// 32-element weight block as 32 signed integer levels plus its scale (and min).
#pragma once

#include <cstdint>

#include "quant/blocks.h"
#include "tensor/dtype.h"
#include "tensor/fp16.h"

namespace pocket::kernels {

// value[i] = d * q[i] + m.
struct UnpackedBlock {
  int8_t q[32];
  float d;
  float m;
};

inline void UnpackQ8_0(const void* p, UnpackedBlock* u) {
  const auto* b = static_cast<const quant::BlockQ8_0*>(p);
  for (int i = 0; i < 32; ++i) u->q[i] = b->qs[i];
  u->d = F16ToF32(b->d);
  u->m = 0.0f;
}
inline void UnpackQ4_0(const void* p, UnpackedBlock* u) {
  const auto* b = static_cast<const quant::BlockQ4_0*>(p);
  for (int i = 0; i < 16; ++i) {
    u->q[i] = static_cast<int8_t>((b->qs[i] & 0xF) - 8);
    u->q[i + 16] = static_cast<int8_t>((b->qs[i] >> 4) - 8);
  }
  u->d = F16ToF32(b->d);
  u->m = 0.0f;
}
inline void UnpackQ4_1(const void* p, UnpackedBlock* u) {
  const auto* b = static_cast<const quant::BlockQ4_1*>(p);
  for (int i = 0; i < 16; ++i) {
    u->q[i] = static_cast<int8_t>(b->qs[i] & 0xF);
    u->q[i + 16] = static_cast<int8_t>(b->qs[i] >> 4);
  }
  u->d = F16ToF32(b->d);
  u->m = F16ToF32(b->m);
}
inline void UnpackQ5_0(const void* p, UnpackedBlock* u) {
  const auto* b = static_cast<const quant::BlockQ5_0*>(p);
  uint32_t qh = 0;
  for (int i = 0; i < 4; ++i) qh |= static_cast<uint32_t>(b->qh[i]) << (8 * i);
  for (int i = 0; i < 16; ++i) {
    const int h0 = ((qh >> i) & 1) << 4, h1 = ((qh >> (i + 16)) & 1) << 4;
    u->q[i] = static_cast<int8_t>(((b->qs[i] & 0xF) | h0) - 16);
    u->q[i + 16] = static_cast<int8_t>(((b->qs[i] >> 4) | h1) - 16);
  }
  u->d = F16ToF32(b->d);
  u->m = 0.0f;
}
inline void UnpackQ5_1(const void* p, UnpackedBlock* u) {
  const auto* b = static_cast<const quant::BlockQ5_1*>(p);
  uint32_t qh = 0;
  for (int i = 0; i < 4; ++i) qh |= static_cast<uint32_t>(b->qh[i]) << (8 * i);
  for (int i = 0; i < 16; ++i) {
    const int h0 = ((qh >> i) & 1) << 4, h1 = ((qh >> (i + 16)) & 1) << 4;
    u->q[i] = static_cast<int8_t>((b->qs[i] & 0xF) | h0);
    u->q[i + 16] = static_cast<int8_t>((b->qs[i] >> 4) | h1);
  }
  u->d = F16ToF32(b->d);
  u->m = F16ToF32(b->m);
}
inline void UnpackIQ4NL(const void* p, UnpackedBlock* u) {
  const auto* b = static_cast<const quant::BlockIQ4NL*>(p);
  for (int i = 0; i < 16; ++i) {
    u->q[i] = quant::kIQ4NLValues[b->qs[i] & 0xF];
    u->q[i + 16] = quant::kIQ4NLValues[b->qs[i] >> 4];
  }
  u->d = F16ToF32(b->d);
  u->m = 0.0f;
}
inline void UnpackMXFP4(const void* p, UnpackedBlock* u) {
  const auto* b = static_cast<const quant::BlockMXFP4*>(p);
  for (int i = 0; i < 16; ++i) {
    u->q[i] = quant::kMXFP4Values[b->qs[i] & 0xF];
    u->q[i + 16] = quant::kMXFP4Values[b->qs[i] >> 4];
  }
  u->d = E8M0ToF32Half(b->e);
  u->m = 0.0f;
}

using UnpackFn = void (*)(const void*, UnpackedBlock*);

// The unpacker of a legacy 32-element type, or null.
inline UnpackFn LegacyUnpacker(DType t) {
  switch (t) {
    case DType::kQ8_0:
      return UnpackQ8_0;
    case DType::kQ4_0:
      return UnpackQ4_0;
    case DType::kQ4_1:
      return UnpackQ4_1;
    case DType::kQ5_0:
      return UnpackQ5_0;
    case DType::kQ5_1:
      return UnpackQ5_1;
    case DType::kIQ4_NL:
      return UnpackIQ4NL;
    case DType::kMXFP4:
      return UnpackMXFP4;
    default:
      return nullptr;
  }
}

}  // namespace pocket::kernels
