// JsonPrefix accepts exactly the prefixes of valid JSON documents and completes them; the
// filter makes a random-weight model emit only valid JSON objects, even when max_tokens cuts.
#include "runtime/json_constraint.h"

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "model/test_model.h"
#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace pocket {
namespace {

bool Accepts(const std::string& text, bool object_only = true) {
  JsonPrefix p(object_only);
  return p.Feed(text);
}

TEST(JsonPrefix, AcceptsValidPrefixesOnly) {
  for (const char* ok : {"", " ", "{", "{\"a\"", "{\"a\":", "{\"a\": 1", "{\"a\":-0.5e+3,\"b\":[true,false,null,[],{}]}",
                         "{\"s\":\"\\u00e9\\n\\\"x\"}", "{\"k\":[1,2", "{\"k\":\"caf\xC3\xA9\"}  "}) {
    EXPECT_TRUE(Accepts(ok)) << ok;
  }
  for (const char* bad : {"[", "1", "\"x\"", "{a", "{\"a\" 1", "{\"a\":01", "{\"a\":1,}", "{\"a\":[1,]}", "{\"a\":tru e}",
                          "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}", "{\"a\":1}}", "{\"a\":1} x", "{\"a\":-}", "{\"a\":1.}",
                          "{\"a\":[}"}) {
    EXPECT_FALSE(Accepts(bad)) << bad;
  }
  EXPECT_TRUE(Accepts("[1, {\"a\": []}]", false));
  JsonPrefix p;
  ASSERT_TRUE(p.Feed("{\"a\":[1,2]}"));
  EXPECT_TRUE(p.complete());
}

TEST(JsonPrefix, CompletionAlwaysYieldsAValidObject) {
  for (const char* prefix : {"", "{", "{\"ke", "{\"key\"", "{\"key\":", "{\"key\":-", "{\"k\":1.", "{\"k\":1e",
                             "{\"k\":tr", "{\"k\":\"ab\\", "{\"k\":\"\\u00", "{\"k\":[", "{\"k\":[1,", "{\"k\":{\"j\":[{",
                             "{\"k\":1,"}) {
    JsonPrefix p;
    ASSERT_TRUE(p.Feed(prefix)) << prefix;
    const std::string whole = std::string(prefix) + p.Completion();
    ASSERT_TRUE(p.Feed(p.Completion())) << whole;
    EXPECT_TRUE(p.complete()) << whole;
    auto j = nlohmann::json::parse(whole, nullptr, false);
    EXPECT_TRUE(j.is_object()) << whole;
  }
}

TEST(JsonObjectFilter, RandomModelOnlyEmitsValidObjects) {
  TestModelOptions o;
  o.shape = "tiny";
  o.type = FileType::kQ8_0;
  o.out_path = testing::TempDir() + "/tiny.gguf";
  ASSERT_TRUE(WriteTestModel(o).ok());
  auto m = Model::Load(o.out_path);
  ASSERT_TRUE(m.ok());
  ThreadPool pool(2);
  auto s = Session::Create(**m, &pool, SessionOptions());
  ASSERT_TRUE(s.ok());
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const int64_t max_tokens = 12 + static_cast<int64_t>(seed) * 7;
    ASSERT_TRUE((*s)->Prefill({2, 105, 2364, 107}).ok());
    SamplingParams p;
    p.seed = seed;
    Sampler sampler(p, (**m).config().n_vocab);
    JsonObjectFilter filter((**m).tokenizer(), max_tokens);
    sampler.set_filter(&filter);
    GenerateOptions go;
    go.max_tokens = max_tokens;
    auto r = Generate(**s, sampler, go);
    ASSERT_TRUE(r.ok());
    auto j = nlohmann::json::parse(r->text, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "seed " << seed << ": " << r->text;
    EXPECT_LE(static_cast<int64_t>(r->tokens.size()), max_tokens);
  }
}

}  // namespace
}  // namespace pocket
