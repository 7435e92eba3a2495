#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu_features.h"
#include "kernels/table_fill.h"

namespace pocket::kernels {
namespace {

// One table per ISA; supported[i] says whether this CPU runs table i. Tables are filled in
// ascending order, each later tier starting as a copy of the one it builds on.
struct Tables {
  KernelTable table[kNumIsas];
  bool supported[kNumIsas] = {};
  const KernelTable* best = nullptr;
};

const Tables& GetTables() {
  static const Tables tables = [] {
    Tables t;
    auto add = [&t](Isa isa, Isa base, void (*fill)(KernelTable*)) {
      const int i = static_cast<int>(isa);
      t.table[i] = t.table[static_cast<int>(base)];  // inherit every entry, then override
      fill(&t.table[i]);
      t.supported[i] = true;
      t.best = &t.table[i];
    };
    FillScalarKernels(&t.table[0]);
    t.supported[0] = true;
    t.best = &t.table[0];
#if defined(__x86_64__)
    const CpuFeatures& f = GetCpuFeatures();
    if (f.avx2 && f.fma && f.f16c) {
      add(Isa::kAvx2, Isa::kScalar, FillAvx2Kernels);
      if (f.avxvnni) add(Isa::kAvxVnni, Isa::kAvx2, FillAvxVnniKernels);
      if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni) {
        add(Isa::kAvx512, Isa::kAvx2, FillAvx512Kernels);
        if (f.amx_int8) add(Isa::kAmx, Isa::kAvx512, FillAmxKernels);
      }
    }
#endif
#if defined(__aarch64__)
    add(Isa::kNeon, Isa::kScalar, FillNeonKernels);
    if (GetCpuFeatures().dotprod) add(Isa::kDotprod, Isa::kNeon, FillDotprodKernels);
#endif
    if (const char* forced = std::getenv("POCKET_ISA")) {
      bool found = false;
      for (int i = 0; i < kNumIsas; ++i) {
        if (std::strcmp(forced, IsaName(static_cast<Isa>(i))) != 0) continue;
        found = t.supported[i];
        if (found) t.best = &t.table[i];
      }
      if (!found) {
        std::fprintf(stderr, "pocket: POCKET_ISA=%s is not an ISA this CPU runs; using %s\n",
                     forced, IsaName(t.best->isa));
      }
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
    case Isa::kAvxVnni:
      return "avxvnni";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kNeon:
      return "neon";
    case Isa::kDotprod:
      return "dotprod";
    case Isa::kAmx:
      return "amx";
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

bool ParseKvType(std::string_view name, KvType* t) {
  for (int i = 0; i < kNumKvTypes; ++i) {
    if (name == KvTypeName(static_cast<KvType>(i))) {
      *t = static_cast<KvType>(i);
      return true;
    }
  }
  return false;
}

const KernelTable& Kernels() { return *GetTables().best; }

const KernelTable* KernelsFor(Isa isa) {
  const Tables& t = GetTables();
  const int i = static_cast<int>(isa);
  return i >= 0 && i < kNumIsas && t.supported[i] ? &t.table[i] : nullptr;
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> out;
  for (int i = 0; i < kNumIsas; ++i)
    if (GetTables().supported[i]) out.push_back(static_cast<Isa>(i));
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
  return id >= 0 && id < kMaxTypeId && GetTables().table[0].vec_dot[id] != nullptr;
}

}  // namespace pocket::kernels
