#include "tensor/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pocket {
namespace {

// Reference: round-to-nearest-even through double arithmetic on the exact value grid.
uint16_t RefF32ToF16(float f) {
  if (std::isnan(f)) return 0x7e00;
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7c00;
  if (a < std::ldexp(1.0, -14)) {  // subnormal grid of 2^-24
    const double q = std::nearbyint(a * std::ldexp(1.0, 24));  // default rounding: to even
    return sign | static_cast<uint16_t>(q);
  }
  int e;
  const double m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  double q = std::nearbyint(m * 2048.0);  // 11 significant bits
  if (q == 2048.0) { q = 1024.0; ++e; }
  const int biased = e - 1 + 15;
  return sign | static_cast<uint16_t>((biased << 10) | (static_cast<int>(q) - 1024));
}

TEST(Fp16, ExhaustiveHalfToFloatRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_EQ(h & 0x7c00u, 0x7c00u);
      continue;
    }
    EXPECT_EQ(F32ToF16(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(Fp16, RoundsToNearestEvenLikeTheReference) {
  uint32_t state = 12345;
  for (int i = 0; i < 2000000; ++i) {
    state = state * 1664525u + 1013904223u;
    // Focus on the representable range and its edges.
    const uint32_t bits = (state & 0x807fffffu) | ((96u + (state >> 24) % 50u) << 23);
    const float f = BitsToF32(bits);
    ASSERT_EQ(F32ToF16(f), RefF32ToF16(f)) << "f=" << f << " bits=0x" << std::hex << bits;
  }
  EXPECT_EQ(F32ToF16(65504.0f), 0x7bff);
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);
  EXPECT_EQ(F32ToF16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(F32ToF16(-0.0f), 0x8000);
}

TEST(Bf16, RoundTripAndRounding) {
  EXPECT_EQ(F32ToBF16(1.0f), 0x3f80);
  EXPECT_EQ(BF16ToF32(0x3f80), 1.0f);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties to even (down).
  EXPECT_EQ(F32ToBF16(1.00390625f), 0x3f80);
  // 1 + 3*2^-8 ties up to the even neighbour.
  EXPECT_EQ(F32ToBF16(1.01171875f), 0x3f82);
  EXPECT_TRUE(std::isnan(BF16ToF32(F32ToBF16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(E8M0, HalfScale) {
  EXPECT_EQ(E8M0ToF32Half(128), 1.0f);
  EXPECT_EQ(E8M0ToF32Half(129), 2.0f);
  EXPECT_EQ(E8M0ToF32Half(1), std::ldexp(1.0f, -127));
  EXPECT_EQ(E8M0ToF32Half(0), std::ldexp(1.0f, -128));
}

}  // namespace
}  // namespace pocket
