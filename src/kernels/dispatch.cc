#include <cstdlib>
#include <cstring>
#include <mutex>

#include "kernels/cpu_features.h"
#include "kernels/table_fill.h"

namespace pocket::kernels {
namespace {

struct Tables {
  KernelTable scalar;
  KernelTable avx2;
  bool has_avx2 = false;
  const KernelTable* best = nullptr;
};

const Tables& GetTables() {
  static const Tables tables = [] {
    Tables t;
    FillScalarKernels(&t.scalar);
    t.best = &t.scalar;
#if defined(__x86_64__)
    const CpuFeatures& f = GetCpuFeatures();
    if (f.avx2 && f.fma && f.f16c) {
      t.avx2 = t.scalar;  // inherit every entry, then override what AVX2 speeds up
      FillAvx2Kernels(&t.avx2);
      t.has_avx2 = true;
      t.best = &t.avx2;
    }
#endif
    if (const char* forced = std::getenv("POCKET_ISA")) {
      if (std::strcmp(forced, "scalar") == 0) t.best = &t.scalar;
      if (std::strcmp(forced, "avx2") == 0 && t.has_avx2) t.best = &t.avx2;
    }
    return t;
  }();
  return tables;
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
  }
  return "?";
}

int KvTypeBytes(KvType t) { return t == KvType::kF32 ? 4 : 2; }

const char* KvTypeName(KvType t) {
  switch (t) {
    case KvType::kF32:
      return "f32";
    case KvType::kF16:
      return "f16";
    case KvType::kBF16:
      return "bf16";
  }
  return "?";
}

const KernelTable& Kernels() { return *GetTables().best; }

const KernelTable* KernelsFor(Isa isa) {
  const Tables& t = GetTables();
  switch (isa) {
    case Isa::kScalar:
      return &t.scalar;
    case Isa::kAvx2:
      return t.has_avx2 ? &t.avx2 : nullptr;
  }
  return nullptr;
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> out = {Isa::kScalar};
  if (KernelsFor(Isa::kAvx2)) out.push_back(Isa::kAvx2);
  return out;
}

DType ActivationType(DType t) {
  switch (t) {
    case DType::kF16:
      return DType::kF16;
    case DType::kBF16:
      return DType::kBF16;
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
    case DType::kIQ4_NL:
    case DType::kMXFP4:
      return DType::kQ8_0;
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kIQ4_XS:
      return DType::kQ8_K;
    default:
      return DType::kF32;
  }
}

bool HasMatMulKernel(DType t) {
  const int id = static_cast<int>(t);
  return id >= 0 && id < kMaxTypeId && GetTables().scalar.vec_dot[id] != nullptr;
}

}  // namespace pocket::kernels
