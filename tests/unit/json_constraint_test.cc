// JsonPrefix accepts exactly the prefixes of valid JSON documents and completes them; the
// filter makes a random-weight model emit only valid JSON objects, even when max_tokens cuts.
#include "runtime/json_constraint.h"
#include "runtime/json_schema.h"

#include <nlohmann/json.hpp>

#include "common/test_util.h"
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
  auto m = Model::Load(testing::TinyModelPath());
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

const char* kPersonSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1, "maxItems": 2},
    "pet": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"kind": {"const": "cat"}},
                                         "required": ["kind"], "additionalProperties": false}]}
  },
  "required": ["name", "age"],
  "additionalProperties": false
})";

bool SchemaAccepts(const std::shared_ptr<const CompiledSchema>& schema, const std::string& text) {
  SchemaPrefix p(schema);
  return p.Feed(text);
}

TEST(JsonSchema, CompileNamesUnsupportedKeywords) {
  auto bad = CompileJsonSchema(R"({"type":"object","properties":{"x":{"type":"string","pattern":"^a"}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'pattern'"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("schema.properties.x.pattern"), std::string::npos);
  EXPECT_FALSE(CompileJsonSchema(R"({"type":"thing"})").ok());
  EXPECT_FALSE(CompileJsonSchema("not json").ok());
  EXPECT_FALSE(CompileJsonSchema(R"({"minItems":-1})").ok());
  EXPECT_TRUE(CompileJsonSchema(kPersonSchema).ok());
}

TEST(JsonSchema, TracksTypesKeysRequiredItemsEnumsAndAnyOf) {
  auto schema = *CompileJsonSchema(kPersonSchema);
  for (const char* ok : {R"({"name":"x","age":3,"tags":["a"]})", R"({ "age": -12, "name": "" })",
                         R"({"name":"x","age":0,"pet":null})", R"({"name":"x","age":0,"pet":{"kind":"cat"}})",
                         R"({"name":"x","age":1,"tags":["b","a"]})", R"({"na)"}) {
    EXPECT_TRUE(SchemaAccepts(schema, ok)) << ok;
  }
  for (const char* bad : {R"({"foo")", R"({"age":3.5)", R"({"name":"x"})", R"({"name":1)", R"({"name":"x","age":1,"tags":[])",
                          R"({"name":"x","age":1,"tags":["a","b","a")", R"({"name":"x","age":1,"tags":["c")",
                          R"({"name":"x","name")", R"({"name":"x","age":1,"pet":{"kind":"dog")", R"({"name":"x","age":1,"pet":{})",
                          R"([)", R"({"name":"x","age":1,"pet":3)"}) {
    EXPECT_FALSE(SchemaAccepts(schema, bad)) << bad;
  }
  SchemaPrefix done(schema);
  ASSERT_TRUE(done.Feed(R"({"name":"x","age":3})"));
  EXPECT_TRUE(done.complete());
}

TEST(JsonSchema, CompletionIsAlwaysValid) {
  auto schema = *CompileJsonSchema(kPersonSchema);
  for (const char* prefix : {"", "{", R"({"na)", R"({"name")", R"({"name":)", R"({"name":"ab)", R"({"name":"ab","age":-)",
                             R"({"name":"ab","age":12)", R"({"name":"ab","age":12,)", R"({"tags":[)", R"({"tags":["a",)",
                             R"({"pet":{)", R"({"pet":{"kind":"c)"}) {
    SchemaPrefix p(schema);
    ASSERT_TRUE(p.Feed(prefix)) << prefix;
    const std::string rest = p.Completion();
    ASSERT_TRUE(p.Feed(rest)) << prefix << " + " << rest;
    EXPECT_TRUE(p.complete()) << prefix << " + " << rest;
    auto j = nlohmann::json::parse(std::string(prefix) + rest, nullptr, false);
    ASSERT_TRUE(j.is_object()) << prefix << rest;
    EXPECT_TRUE(j.contains("name") && j["name"].is_string()) << j.dump();
    EXPECT_TRUE(j.contains("age") && j["age"].is_number_integer()) << j.dump();
  }
}

TEST(JsonSchemaFilter, RandomModelOutputValidates) {
  auto m = Model::Load(testing::TinyModelPath());
  ASSERT_TRUE(m.ok());
  ThreadPool pool(2);
  auto s = Session::Create(**m, &pool, SessionOptions());
  ASSERT_TRUE(s.ok());
  auto schema = *CompileJsonSchema(kPersonSchema);
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const int64_t max_tokens = 30 + static_cast<int64_t>(seed) * 15;
    ASSERT_TRUE((*s)->Prefill({2, 105, 2364, 107}).ok());
    SamplingParams p;
    p.seed = seed;
    Sampler sampler(p, (**m).config().n_vocab);
    JsonSchemaFilter filter((**m).tokenizer(), SchemaPrefix(schema), max_tokens);
    sampler.set_filter(&filter);
    GenerateOptions go;
    go.max_tokens = max_tokens;
    auto r = Generate(**s, sampler, go);
    ASSERT_TRUE(r.ok());
    auto j = nlohmann::json::parse(r->text, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "seed " << seed << ": " << r->text;
    EXPECT_TRUE(j.contains("name") && j["name"].is_string()) << r->text;
    EXPECT_TRUE(j.contains("age") && j["age"].is_number_integer()) << r->text;
    for (auto it = j.begin(); it != j.end(); ++it) {
      EXPECT_TRUE(it.key() == "name" || it.key() == "age" || it.key() == "tags" || it.key() == "pet") << it.key();
    }
    if (j.contains("tags")) {
      EXPECT_GE(j["tags"].size(), 1u);
      EXPECT_LE(j["tags"].size(), 2u);
    }
  }
}

}  // namespace
}  // namespace pocket
