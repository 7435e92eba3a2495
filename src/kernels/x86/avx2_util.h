// Small helpers shared by the AVX2 kernel files (each compiled with -mavx2 -mfma -mf16c);
// include only from kernels/x86/.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace pocket::kernels::avx2 {

// F16C hardware conversion (exact for every half, subnormals included); the portable
// F16ToF32 of tensor/fp16.h is branchy and shows up in profiles of the dot products.
inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

}  // namespace pocket::kernels::avx2
