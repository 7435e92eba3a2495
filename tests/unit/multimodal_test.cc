// Soft tokens in the decoder: placeholder expansion, the Session's media spans (embeddings
// replace the token rows, prefix reuse keyed by content, chunking), bidirectional image
// groups in sliding layers, and multi-turn conversations with images. Runs on the tiny
// random-weight model, so it needs no golden data.
#include <cmath>

#include "common/test_util.h"
#include "model/encoder_ops.h"
#include "quant/quant.h"
#include "runtime/conversation.h"
#include "runtime/decoder.h"
#include "runtime/model.h"
#include "runtime/prompt.h"
#include "runtime/session.h"

namespace pocket {
namespace {

MediaItem RandomImage(const Model& m, int64_t n_tokens, uint32_t seed) {
  MediaEmbedding e;
  e.n_tokens = n_tokens;
  e.n_embd = m.config().n_embd;
  uint32_t x = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n_tokens * e.n_embd; ++i) {
    x = x * 1664525u + 1013904223u;
    e.data.push_back(static_cast<float>(static_cast<int32_t>(x >> 8) % 2000) / 1000.0f);
  }
  return MakeMediaItem(MediaKind::kImage, std::move(e));
}

struct Fixture {
  std::unique_ptr<Model> model;
  ThreadPool pool{2};
  Fixture() {
    auto m = Model::Load(testing::TinyModelPath());
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    model = std::move(*m);
  }
  std::unique_ptr<Session> NewSession(int64_t batch = 64) {
    SessionOptions so;
    so.n_ctx = 512;
    so.batch = batch;
    auto s = Session::Create(*model, &pool, so);
    EXPECT_TRUE(s.ok());
    return std::move(*s);
  }
  std::vector<float> Logits(Session& s) {
    return std::vector<float>(s.logits(), s.logits() + model->config().n_vocab);
  }
};

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

TEST(Multimodal, ExpandMediaWrapsSoftTokens) {
  Fixture f;
  auto ids = MediaTokenIds::From(f.model->tokenizer());
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(ids->boi, 255999);
  EXPECT_EQ(ids->eoi, 258882);
  EXPECT_EQ(ids->image, 258880);
  EXPECT_EQ(ids->audio, 258881);
  const MediaItem img = RandomImage(*f.model, 5, 1);
  auto p = ExpandMedia({2, 10, ids->image, 11}, {img}, *ids, /*image_bidirectional=*/true);
  ASSERT_TRUE(p.ok());
  const std::vector<int32_t> want = {2,          10,         ids->boi,   ids->image, ids->image,
                                     ids->image, ids->image, ids->image, ids->eoi,   11};
  EXPECT_EQ(p->tokens, want);
  ASSERT_EQ(p->media.size(), 1u);
  EXPECT_EQ(p->media[0].start, 3);
  EXPECT_TRUE(p->media[0].bidirectional);
  // Count mismatches are errors, in both directions.
  EXPECT_FALSE(ExpandMedia({2, ids->image, ids->image}, {img}, *ids, false).ok());
  EXPECT_FALSE(ExpandMedia({2, 10}, {img}, *ids, false).ok());
  EXPECT_FALSE(ExpandMedia({2, ids->audio}, {img}, *ids, false).ok());
}

TEST(Multimodal, SoftTokensReachTheDecoderAndReuseIsKeyedByContent) {
  Fixture f;
  auto ids = *MediaTokenIds::From(f.model->tokenizer());
  const MediaItem a = RandomImage(*f.model, 20, 1), b = RandomImage(*f.model, 20, 2);
  auto pa = *ExpandMedia({2, 10, ids.image, 11, 12}, {a}, ids, false);
  auto pb = *ExpandMedia({2, 10, ids.image, 11, 12}, {b}, ids, false);
  auto s = f.NewSession(/*batch=*/64);
  ASSERT_TRUE(s->Prefill(pa).ok());
  const std::vector<float> la = f.Logits(*s);
  ASSERT_TRUE(s->Prefill(pb).ok());
  EXPECT_EQ(s->stats().reused_tokens, 3);  // <bos>, 10, <|image> — not image a's soft tokens
  const std::vector<float> lb = f.Logits(*s);
  EXPECT_GT(MaxDiff(la, lb), 1e-3);  // different images, different answers
  // The same image again in a fresh session with chunks of 8 (spans cross chunk boundaries,
  // allowed for causal images) gives the same logits.
  auto s2 = f.NewSession(/*batch=*/8);
  ASSERT_TRUE(s2->Prefill(pa).ok());
  EXPECT_LT(MaxDiff(la, f.Logits(*s2)), 1e-4);
  ASSERT_TRUE(s2->Prefill(pa).ok());
  EXPECT_EQ(s2->stats().prefilled_tokens, 0);
  // A span that does not fit the prompt or the model width is refused.
  Prompt bad = pa;
  bad.media[0].start = static_cast<int64_t>(bad.tokens.size()) - 2;
  EXPECT_FALSE(s2->Prefill(bad).ok());
}

TEST(Multimodal, ImageGroupsAreBidirectionalInSlidingLayersOnly) {
  Fixture f;
  const Gemma4TextConfig& c = f.model->config();
  const int64_t n = 6, H = c.n_embd;
  DecoderOptions o;
  o.n_ctx = 64;
  o.max_batch = 16;
  auto run = [&](float last_value, bool grouped) {
    auto d = Decoder::Create(c, f.model->weights(), &f.pool, o);
    EXPECT_TRUE(d.ok());
    std::vector<int32_t> tokens(n, 0);
    std::vector<float> emb(static_cast<size_t>(n * H), 0.25f);
    for (int64_t i = 0; i < H; ++i)
      emb[static_cast<size_t>((n - 1) * H + i)] = last_value * ((i % 3) - 1.0f);
    std::vector<uint8_t> mask(n, 1);
    std::vector<int64_t> first(n, 0), last(n, n - 1);
    DecoderBatch b;
    b.tokens = tokens.data();
    b.n = n;
    b.embeddings = emb.data();
    b.embedding_mask = mask.data();
    if (grouped) {
      b.group_first = first.data();
      b.group_last = last.data();
    }
    std::vector<float> logits(static_cast<size_t>(n * c.n_vocab));
    EXPECT_TRUE((*d)->Forward(b, LogitsMode::kAll, logits.data()).ok());
    return std::vector<float>(logits.begin(), logits.begin() + c.n_vocab);  // row 0
  };
  // Causal: the first soft token cannot see the last one.
  EXPECT_LT(MaxDiff(run(1.0f, false), run(-1.0f, false)), 1e-6);
  // Grouped: it can (through the sliding layers).
  EXPECT_GT(MaxDiff(run(1.0f, true), run(-1.0f, true)), 1e-4);
  // A group reaching outside the chunk is refused.
  auto d = Decoder::Create(c, f.model->weights(), &f.pool, o);
  std::vector<int32_t> tokens(2, 0);
  std::vector<int64_t> first = {0, 0}, last = {0, 5};
  DecoderBatch b;
  b.tokens = tokens.data();
  b.n = 2;
  b.group_first = first.data();
  b.group_last = last.data();
  EXPECT_FALSE((*d)->Forward(b, LogitsMode::kNone, nullptr).ok());
}

TEST(Multimodal, BidirectionalImageMustFitOneBatch) {
  Fixture f;
  auto ids = *MediaTokenIds::From(f.model->tokenizer());
  auto p = *ExpandMedia({2, 10, ids.image, 11}, {RandomImage(*f.model, 20, 3)}, ids,
                        /*bidirectional=*/true);
  auto small = f.NewSession(/*batch=*/8);
  Status st = small->Prefill(p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("batch"), std::string::npos);
  // With room, the chunk ends before the image so it is computed whole: same as one chunk.
  auto a = f.NewSession(/*batch=*/24), b = f.NewSession(/*batch=*/64);
  ASSERT_TRUE(a->Prefill(p).ok());
  ASSERT_TRUE(b->Prefill(p).ok());
  EXPECT_LT(MaxDiff(f.Logits(*a), f.Logits(*b)), 1e-4);
}

TEST(Multimodal, ConversationKeepsEarlierImagesInTheCache) {
  Fixture f;
  auto s = f.NewSession();
  Conversation conv(*s, ConversationOptions{});
  SamplingParams sp;
  sp.temperature = 0;
  Sampler sampler(sp, f.model->config().n_vocab);
  GenerateOptions go;
  go.max_tokens = 3;
  auto r1 = conv.Send(UserTurn{"What is this?", {RandomImage(*f.model, 16, 4)}}, sampler, go);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_GT(r1->prompt_tokens, 16 + 2);
  auto r2 = conv.Send(UserTurn{"And this one?", {RandomImage(*f.model, 16, 5)}}, sampler, go);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  // Only the new turn is computed: the first image stays in the cache.
  EXPECT_LT(r2->prefilled_tokens, r2->prompt_tokens - 16);
  EXPECT_GT(r2->prefilled_tokens, 16);
  // Switching thinking re-renders the history with both images (reusing the unchanged prefix).
  conv.set_thinking(true);
  auto r3 = conv.Send(UserTurn{"Compare them.", {}}, sampler, go);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
}

// The first projection of raw pixels runs in f32 whatever its stored type.
TEST(Multimodal, PromoteToF32CopiesExactlyAndOwnsTheData) {
  std::vector<float> src(48 * 5);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) * 0.01f - 1.0f;
  std::vector<uint8_t> f16(*RowBytes(DType::kF16, 48) * 5);
  for (int r = 0; r < 5; ++r)
    ASSERT_TRUE(QuantizeRow(DType::kF16, src.data() + r * 48,
                            f16.data() + r * *RowBytes(DType::kF16, 48), 48)
                    .ok());
  TensorInfo t;
  t.type = DType::kF16;
  t.n_dims = 2;
  t.ne[0] = 48;
  t.ne[1] = 5;
  t.data = f16.data();
  ref::MatView v{&t, 5, 48, 0};
  std::shared_ptr<OwnedMatrix> holder;
  ASSERT_TRUE(PromoteToF32(&v, &holder).ok());
  ASSERT_NE(holder, nullptr);
  EXPECT_EQ(v.t->type, DType::kF32);
  std::vector<float> row(48), want(48);
  for (int r = 0; r < 5; ++r) {
    ref::GetRow(v, r, row.data());
    ASSERT_TRUE(
        DequantizeRow(DType::kF16, f16.data() + r * *RowBytes(DType::kF16, 48), want.data(), 48)
            .ok());
    EXPECT_EQ(row, want);
  }
  std::shared_ptr<OwnedMatrix> none;  // f32 stays a view
  ASSERT_TRUE(PromoteToF32(&v, &none).ok());
  EXPECT_EQ(none, nullptr);
}

}  // namespace
}  // namespace pocket
