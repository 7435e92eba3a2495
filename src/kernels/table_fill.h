// Internal to kernels/: each ISA folder fills the entries it implements. Not for other code.
#pragma once

#include "kernels/kernels.h"

namespace pocket::kernels {

void FillScalarKernels(KernelTable* t);
#if defined(__x86_64__)
void FillAvx2Kernels(KernelTable* t);           // compiled with -mavx2 -mfma -mf16c
void FillAvx2KQuantKernels(KernelTable* t);     // x86/avx2_kquants.cc, called by FillAvx2Kernels
void FillAvx2AttentionKernels(KernelTable* t);  // x86/avx2_attention.cc, called by FillAvx2Kernels
void FillAvx2MoreQuantKernels(
    KernelTable* t);                         // x86/avx2_more_quants.cc, called by FillAvx2Kernels
void FillAvx2PackedKernels(KernelTable* t);  // x86/avx2_packed.cc, called by FillAvx2Kernels
// Applied to a copy of the AVX2 table: they override what VNNI speeds up.
void FillAvxVnniKernels(KernelTable* t);          // x86/avxvnni_kernels.cc, -mavxvnni
void FillAvx512Kernels(KernelTable* t);           // x86/avx512_kernels.cc, -mavx512{f,bw,vl,vnni}
void FillAvx512AttentionKernels(KernelTable* t);  // x86/avx512_attention.cc, same flags
void FillAvx512GemmKernels(KernelTable* t);       // x86/avx512_gemm.cc, same flags
void FillAvx512ElementwiseKernels(KernelTable* t);  // x86/avx512_elementwise.cc, same flags
void FillAmxKernels(KernelTable* t);  // x86/amx_gemm.cc, those flags + -mamx-tile -mamx-int8
#endif
#if defined(__aarch64__)
void FillNeonKernels(KernelTable* t);           // arm/neon_kernels.cc, baseline ARMv8-A
void FillNeonAttentionKernels(KernelTable* t);  // arm/neon_attention.cc, called by the above
void FillNeonMathKernels(KernelTable* t);       // arm/neon_math.cc, called by the above
void FillNeonPackedKernels(KernelTable* t);     // arm/neon_packed.cc, called by the above
void FillDotprodKernels(KernelTable* t);        // arm/dotprod_packed.cc, -march=armv8.2-a+dotprod
#endif

}  // namespace pocket::kernels
