// The fast decoder: chunking, ISA choice and KV storage do not change the logits beyond
// float rounding; the KV cache is sized by the architecture; the token loop does not
// allocate; bad input is an error that leaves the decoder usable.
#include "runtime/decoder.h"

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "model/reference_decoder.h"

namespace pocket::testing {
long AllocationCount();  // common/alloc_counter.cc
}  // namespace pocket::testing

namespace pocket {
namespace {

struct Loaded {
  std::unique_ptr<WeightSource> ws;
  Gemma4TextConfig config;
  Gemma4Weights weights;
  std::vector<int32_t> tokens;
};

Loaded Load(const std::string& style) {
  Loaded l;
  const std::string dir = testing::GoldenDir() + "/text/" + style;
  auto ws = WeightSource::Open(dir + "/model.gguf");
  EXPECT_TRUE(ws.ok()) << ws.status().ToString();
  l.ws = std::move(*ws);
  auto c = LoadTextConfig(*l.ws);
  EXPECT_TRUE(c.ok());
  l.config = *c;
  auto w = Gemma4Weights::Bind(*l.ws, l.config);
  EXPECT_TRUE(w.ok());
  l.weights = std::move(*w);
  for (const auto& v : nlohmann::json::parse(testing::ReadFile(dir + "/tokens.json")))
    l.tokens.push_back(v.get<int32_t>());
  return l;
}

std::vector<float> RunDecoder(const Loaded& l, ThreadPool* pool, int64_t chunk,
                              kernels::KvType kv = kernels::KvType::kF32,
                              const kernels::KernelTable* table = nullptr) {
  DecoderOptions o;
  o.n_ctx = static_cast<int64_t>(l.tokens.size());
  o.max_batch = chunk;
  o.kv_type = kv;
  o.kernels = table;
  auto d = Decoder::Create(l.config, l.weights, pool, o);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  std::vector<float> logits(l.tokens.size() * static_cast<size_t>(l.config.n_vocab));
  EXPECT_TRUE((*d)->Eval(l.tokens.data(), static_cast<int64_t>(l.tokens.size()), LogitsMode::kAll,
                         logits.data())
                  .ok());
  return logits;
}

float MaxAbs(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

class DecoderTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DecoderTest, ChunkSizesThreadsAndIsasAgreeWithReference) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Loaded l = Load(GetParam());
  ThreadPool pool(2);
  const std::vector<float> base = RunDecoder(l, &pool, 512);
  // The oracle.
  ReferenceDecoder ref(l.config, l.weights, static_cast<int64_t>(l.tokens.size()));
  std::vector<float> want(base.size());
  for (size_t i = 0; i < l.tokens.size(); ++i)
    ASSERT_TRUE(
        ref.Step(l.tokens[i], want.data() + i * static_cast<size_t>(l.config.n_vocab)).ok());
  EXPECT_LE(MaxAbs(base, want), 1e-4);
  for (int64_t chunk : {1, 3, 7, 8, 9})
    EXPECT_LE(MaxAbs(RunDecoder(l, &pool, chunk), base), 1e-5) << "chunk " << chunk;
  EXPECT_LE(MaxAbs(RunDecoder(l, nullptr, 5), base), 1e-5) << "no pool";
  for (kernels::Isa isa : kernels::SupportedIsas()) {
    EXPECT_LE(
        MaxAbs(RunDecoder(l, &pool, 4, kernels::KvType::kF32, kernels::KernelsFor(isa)), base),
        1e-4)
        << kernels::IsaName(isa);
  }
}

TEST_P(DecoderTest, HalfPrecisionKvStaysClose) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Loaded l = Load(GetParam());
  ThreadPool pool(2);
  const std::vector<float> base = RunDecoder(l, &pool, 512);
  for (kernels::KvType kv : {kernels::KvType::kF16, kernels::KvType::kBF16}) {
    const std::vector<float> got = RunDecoder(l, &pool, 7, kv);
    double mean = 0;
    for (size_t i = 0; i < got.size(); ++i) mean += std::fabs(got[i] - base[i]);
    mean /= static_cast<double>(got.size());
    // These tiny random models amplify rounding; a broken cache gives O(1) errors.
    EXPECT_LT(mean, kv == kernels::KvType::kF16 ? 0.02 : 0.1) << kernels::KvTypeName(kv);
  }
}

INSTANTIATE_TEST_SUITE_P(Styles, DecoderTest,
                         ::testing::Values("e_style", "moe_style", "dense_style"));

TEST(KvCache, SizedByArchitecture) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Loaded l = Load("e_style");  // 8 layers SSSFSSSF, W=8, last 4 KV-shared, 1 kv head, d 16/32
  auto kv = KvCache::Create(l.config, 1000, 16, kernels::KvType::kF16);
  ASSERT_TRUE(kv.ok());
  // Owning layers 0-2 (sliding, ring of 8-1+16 slots of 16 values) and 3 (full, 1000 slots of 32).
  const uint64_t want = 2 * 2 * (3 * 23 * 16 + 1000 * 32);
  EXPECT_EQ(kv->bytes(), want);
  EXPECT_EQ(kv->View(4).k,
            kv->View(0).k == nullptr ? nullptr : kv->View(2).k);  // shared S layer reads layer 2
  EXPECT_EQ(kv->View(7).k, kv->View(3).k);
  EXPECT_EQ(kv->View(1).capacity, 23);
  EXPECT_EQ(kv->View(3).capacity, 1000);
  EXPECT_NE(kv->Describe().find("4 shared"), std::string::npos) << kv->Describe();
  EXPECT_FALSE(KvCache::Create(l.config, 0, 16, kernels::KvType::kF32).ok());
}

TEST(Decoder, TokenLoopDoesNotAllocate) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  for (const char* style : {"e_style", "moe_style"}) {
    const Loaded l = Load(style);
    ThreadPool pool(2);
    DecoderOptions o;
    o.n_ctx = 64;
    o.max_batch = 8;
    auto d = Decoder::Create(l.config, l.weights, &pool, o);
    ASSERT_TRUE(d.ok());
    std::vector<float> logits(static_cast<size_t>(8 * l.config.n_vocab));
    ASSERT_TRUE((*d)->Eval(l.tokens.data(), 8, LogitsMode::kAll, logits.data()).ok());  // warm-up
    int32_t tok = 5;
    ASSERT_TRUE((*d)->Forward({&tok, 1}, LogitsMode::kLast, logits.data()).ok());
    // The counter itself must see allocations, or the check below could not fail.
    const long probe_before = testing::AllocationCount();
    auto probe = std::make_unique<std::vector<int>>(100);
    ASSERT_GT(testing::AllocationCount(), probe_before) << "allocation counter is not counting";
    probe.reset();
    const long before = testing::AllocationCount();
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE((*d)->Forward({&tok, 1}, LogitsMode::kLast, logits.data()).ok());
      tok = static_cast<int32_t>(
          std::max_element(logits.begin(), logits.begin() + l.config.n_vocab) - logits.begin());
    }
    EXPECT_EQ(testing::AllocationCount(), before) << style;
  }
}

TEST(Decoder, BadInputIsAnErrorAndLeavesStateIntact) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Loaded l = Load("dense_style");
  DecoderOptions o;
  o.n_ctx = 4;
  o.max_batch = 4;
  auto d = Decoder::Create(l.config, l.weights, nullptr, o);
  ASSERT_TRUE(d.ok());
  std::vector<float> logits(static_cast<size_t>(4 * l.config.n_vocab));
  int32_t bad[2] = {1, static_cast<int32_t>(l.config.n_vocab)};
  Status st = (*d)->Forward({bad, 2}, LogitsMode::kLast, logits.data());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("out of range"), std::string::npos);
  EXPECT_EQ((*d)->position(), 0);
  int32_t ok[3] = {1, 2, 3};
  ASSERT_TRUE((*d)->Forward({ok, 3}, LogitsMode::kLast, logits.data()).ok());
  st = (*d)->Forward({ok, 2}, LogitsMode::kLast, logits.data());
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  EXPECT_EQ((*d)->position(), 3);
  std::vector<int32_t> five(5, 1);
  EXPECT_FALSE((*d)->Forward({five.data(), 5}, LogitsMode::kLast, logits.data()).ok());
  o.max_batch = 0;
  EXPECT_FALSE(Decoder::Create(l.config, l.weights, nullptr, o).ok());
}

}  // namespace
}  // namespace pocket
