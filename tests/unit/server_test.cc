// The OpenAI-compatible server over real loopback HTTP: chat and completions, streaming and
// not, tool calls and reasoning (through a scripted model), 16 concurrent clients, client
// disconnects, API keys, and a table of malformed requests that must each get the right 4xx
// while the server stays healthy.
#include "apps/server/server.h"

#include <httplib.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/test_util.h"
#include "model/test_model.h"
#include "runtime/model.h"
#include "runtime/mmproj.h"

namespace pocket::server {
namespace {

using nlohmann::json;

const Model& TinyModel() {
  static std::unique_ptr<Model> model = [] {
    auto m = Model::Load(testing::TinyModelPath());
    EXPECT_TRUE(m.ok()) << m.status().message();
    return std::move(*m);
  }();
  return *model;
}

struct Running {
  std::unique_ptr<Server> server;
  std::unique_ptr<httplib::Client> client;
};

Running Start(ServerOptions o) {
  o.port = 0;
  o.n_ctx = 512;
  Running r;
  auto s = Server::Create(TinyModel(), o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  r.server = std::move(*s);
  EXPECT_TRUE(r.server->Start().ok());
  r.client = std::make_unique<httplib::Client>("127.0.0.1", r.server->port());
  r.client->set_read_timeout(60, 0);
  return r;
}

json Post(httplib::Client& c, const std::string& path, const json& body, int want_status = 200) {
  auto res = c.Post(path.c_str(), body.dump(), "application/json");
  EXPECT_TRUE(res);
  if (!res) return json();
  EXPECT_EQ(res->status, want_status) << res->body;
  return json::parse(res->body, nullptr, false);
}

// The data payloads of an SSE stream ("[DONE]" included).
std::vector<std::string> Events(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const size_t end = body.find("\n\n", pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

json Chat(int max_tokens, uint64_t seed, bool stream = false) {
  return {{"model", "tiny"}, {"messages", {{{"role", "user"}, {"content", "hello"}}}}, {"max_tokens", max_tokens},
          {"seed", seed}, {"stream", stream}};
}

TEST(Server, HealthModelsMetricsAndChat) {
  Running r = Start({});
  auto health = r.client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "{\"status\":\"ok\"}");
  json models = json::parse(r.client->Get("/v1/models")->body);
  EXPECT_EQ(models["data"][0]["id"], "tiny");

  json a = Post(*r.client, "/v1/chat/completions", Chat(6, 3));
  EXPECT_EQ(a["object"], "chat.completion");
  EXPECT_EQ(a["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(a["usage"]["completion_tokens"], 6);
  EXPECT_GT(a["usage"]["prompt_tokens"].get<int>(), 5);
  const std::string content = a["choices"][0]["message"]["content"];
  EXPECT_FALSE(content.empty());
  // Same seed, same answer; streamed deltas add up to it.
  json b = Post(*r.client, "/v1/chat/completions", Chat(6, 3));
  EXPECT_EQ(b["choices"][0]["message"]["content"], content);
  auto res = r.client->Post("/v1/chat/completions", Chat(6, 3, true).dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  const auto events = Events(res->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string streamed;
  std::string finish;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    json e = json::parse(events[i]);
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    const json& d = e["choices"][0]["delta"];
    if (d.contains("content")) streamed += d["content"].get<std::string>();
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(streamed, content);
  EXPECT_EQ(finish, "length");

  json c = Post(*r.client, "/v1/completions", {{"prompt", "once upon"}, {"max_tokens", 4}, {"seed", 1}});
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["usage"]["completion_tokens"], 4);
  const std::string metrics = r.client->Get("/metrics")->body;
  EXPECT_NE(metrics.find("pocket_requests_total 4"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("pocket_generated_tokens_total 22"), std::string::npos) << metrics;
}

std::vector<int32_t> Script(const std::string& text) {
  Tokenizer::EncodeOptions o;
  o.add_bos = false;
  o.parse_special = true;
  return TinyModel().tokenizer().Encode(text, o);
}

TEST(Server, ToolCallsAndReasoningEndToEnd) {
  ServerOptions o;
  o.test_script = Script("<|channel>thought\nweather needs a tool<channel|><|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3}<tool_call|>");
  Running r = Start(o);
  json req = Chat(64, 1);
  req["chat_template_kwargs"] = {{"enable_thinking", true}};
  req["tools"] = {{{"type", "function"},
                   {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}};
  json a = Post(*r.client, "/v1/chat/completions", req);
  const json& m = a["choices"][0]["message"];
  EXPECT_EQ(m["reasoning_content"], "weather needs a tool");
  ASSERT_EQ(m["tool_calls"].size(), 1u) << a.dump();
  EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(m["tool_calls"][0]["function"]["arguments"].get<std::string>()), json({{"city", "Paris"}, {"days", 3}}));
  EXPECT_EQ(a["choices"][0]["finish_reason"], "tool_calls");

  req["stream"] = true;
  auto res = r.client->Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(res);
  std::string reasoning, tool_name, finish;
  for (const std::string& ev : Events(res->body)) {
    if (ev == "[DONE]") continue;
    json e = json::parse(ev);
    const json& d = e["choices"][0]["delta"];
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("tool_calls")) tool_name = d["tool_calls"][0]["function"]["name"];
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(reasoning, "weather needs a tool");
  EXPECT_EQ(tool_name, "get_weather");
  EXPECT_EQ(finish, "tool_calls");
}

TEST(Server, JsonObjectModeAlwaysReturnsAnObject) {
  Running r = Start({});
  for (int seed = 0; seed < 4; ++seed) {
    json req = Chat(10 + 9 * seed, static_cast<uint64_t>(seed), seed % 2 == 1);
    req["response_format"] = {{"type", "json_object"}};
    auto res = r.client->Post("/v1/chat/completions", req.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    std::string content;
    if (seed % 2 == 1) {
      for (const std::string& ev : Events(res->body)) {
        if (ev == "[DONE]") continue;
        const json e = json::parse(ev);
        const json& d = e["choices"][0]["delta"];
        if (d.contains("content")) content += d["content"].get<std::string>();
      }
    } else {
      content = json::parse(res->body)["choices"][0]["message"]["content"];
    }
    EXPECT_TRUE(json::parse(content, nullptr, false).is_object()) << "seed " << seed << ": " << content << "\n" << res->body.substr(0, 600);
  }
}

TEST(Server, JsonSchemaModeOutputValidates) {
  Running r = Start({});
  const json schema = {{"type", "object"},
                       {"properties", {{"city", {{"type", "string"}}}, {"days", {{"type", "integer"}}},
                                       {"unit", {{"enum", {"C", "F"}}}}}},
                       {"required", {"city", "days", "unit"}},
                       {"additionalProperties", false}};
  for (int seed = 0; seed < 3; ++seed) {
    json req = Chat(30 + 10 * seed, static_cast<uint64_t>(seed));
    req["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "w"}, {"schema", schema}}}};
    json a = Post(*r.client, "/v1/chat/completions", req);
    const std::string content = a["choices"][0]["message"]["content"];
    json j = json::parse(content, nullptr, false);
    ASSERT_TRUE(j.is_object()) << content;
    EXPECT_TRUE(j["city"].is_string()) << content;
    EXPECT_TRUE(j["days"].is_number_integer()) << content;
    EXPECT_TRUE(j["unit"] == "C" || j["unit"] == "F") << content;
    EXPECT_EQ(j.size(), 3u) << content;
  }
  auto bad = r.client->Post("/v1/chat/completions",
                            json{{"messages", {{{"role", "user"}, {"content", "x"}}}},
                                 {"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", {{"format", "date"}}}}}}}}
                                .dump(),
                            "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("format"), std::string::npos) << bad->body;
}

TEST(Server, SixteenConcurrentClientsAllAnswered) {
  ServerOptions o;
  o.parallel = 4;
  Running r = Start(o);
  const int port = r.server->port();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(120, 0);
      auto res = c.Post("/v1/chat/completions", Chat(5 + i % 3, static_cast<uint64_t>(i), i % 2 == 0).dump(), "application/json");
      if (!res || res->status != 200) {
        ADD_FAILURE() << "client " << i << ": " << (res ? res->body : httplib::to_string(res.error()));
        return;
      }
      if (i % 2 == 0) {
        if (Events(res->body).back() == "[DONE]") ++ok;
      } else if (json::parse(res->body)["usage"]["completion_tokens"] == 5 + i % 3) {
        ++ok;
      } else {
        ADD_FAILURE() << "client " << i << ": " << res->body;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 16);
  EXPECT_NE(r.client->Get("/metrics")->body.find("pocket_requests_total 16"), std::string::npos);
}

TEST(Server, ClientDisconnectCancelsGeneration) {
  Running r = Start({});
  httplib::Client c("127.0.0.1", r.server->port());
  int chunks = 0;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = Chat(400, 1, true).dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };  // hang up
  c.send(req);
  // The server notices on its next write and stops; the slot is free again.
  for (int i = 0; i < 100 && r.client->Get("/metrics")->body.find("pocket_requests_cancelled_total 1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string metrics = r.client->Get("/metrics")->body;
  EXPECT_NE(metrics.find("pocket_requests_cancelled_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("pocket_slots_busy 0"), std::string::npos) << metrics;
  EXPECT_EQ(Post(*r.client, "/v1/chat/completions", Chat(3, 1))["usage"]["completion_tokens"], 3);
}

TEST(Server, ApiKeyOnEveryRouteButHealth) {
  ServerOptions o;
  o.api_key = "sekret";
  Running r = Start(o);
  EXPECT_EQ(r.client->Get("/health")->status, 200);
  auto res = r.client->Get("/v1/models");
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"]["type"], "authentication_error");
  EXPECT_EQ(r.client->Get("/metrics")->status, 401);
  httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
  EXPECT_EQ(r.client->Get("/v1/models", wrong)->status, 401);
  httplib::Headers right = {{"Authorization", "Bearer sekret"}};
  EXPECT_EQ(r.client->Get("/v1/models", right)->status, 200);
  auto chat = r.client->Post("/v1/chat/completions", right, Chat(2, 1).dump(), "application/json");
  EXPECT_EQ(chat->status, 200);
}

TEST(Server, MalformedRequestsGetTheRight4xxAndTheServerStaysHealthy) {
  ServerOptions o;
  o.max_body_bytes = 1 << 16;
  o.limits.max_tokens = 256;
  Running r = Start(o);
  const json user = {{"role", "user"}, {"content", "hi"}};
  struct Case {
    const char* what;
    std::string body;
    int status;
  };
  auto with = [&](const char* key, json value) {
    json b = {{"messages", {user}}, {"max_tokens", 2}};
    b[key] = std::move(value);
    return b.dump();
  };
  const std::vector<Case> cases = {
      {"not JSON", "{bad", 400},
      {"empty body", "", 400},
      {"JSON array body", "[1,2]", 400},
      {"no messages", json{{"max_tokens", 2}}.dump(), 400},
      {"messages not array", json{{"messages", "hi"}}.dump(), 400},
      {"empty messages", json{{"messages", json::array()}}.dump(), 400},
      {"message not object", json{{"messages", {1}}}.dump(), 400},
      {"no role", json{{"messages", {{{"content", "x"}}}}}.dump(), 400},
      {"bad role", json{{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}.dump(), 400},
      {"content number", json{{"messages", {{{"role", "user"}, {"content", 5}}}}}.dump(), 400},
      {"part without type", json{{"messages", {{{"role", "user"}, {"content", {{{"text", "x"}}}}}}}}.dump(), 400},
      {"unknown part", json{{"messages", {{{"role", "user"}, {"content", {{{"type", "video"}}}}}}}}.dump(), 400},
      {"image part (no encoder)",
       json{{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AAAA"}}}}}}}}}}.dump(),
       400},
      {"image_url with bad base64",
       json{{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,!!!"}}}}}}}}}}.dump(),
       400},
      {"image_url remote (not allowed)",
       json{{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", "http://x/y.png"}}}}}}}}}}.dump(),
       400},
      {"input_audio not base64",
       json{{"messages", {{{"role", "user"}, {"content", {{{"type", "input_audio"}, {"input_audio", {{"data", "%%%"}}}}}}}}}}.dump(),
       400},
      {"unknown model", with("model", "gpt-9"), 404},
      {"model not string", with("model", 7), 400},
      {"negative max_tokens", with("max_tokens", -5), 400},
      {"zero max_tokens", with("max_tokens", 0), 400},
      {"huge max_tokens", with("max_tokens", 1000000), 400},
      {"max_tokens float", with("max_tokens", 2.5), 400},
      {"temperature string", with("temperature", "hot"), 400},
      {"temperature too high", with("temperature", 7), 400},
      {"top_p zero", with("top_p", 0), 400},
      {"top_k negative", with("top_k", -1), 400},
      {"presence_penalty out of range", with("presence_penalty", 3), 400},
      {"n = 2", with("n", 2), 400},
      {"stream not bool", with("stream", "yes"), 400},
      {"stop number", with("stop", 3), 400},
      {"too many stops", with("stop", {"a", "b", "c", "d", "e"}), 400},
      {"empty stop", with("stop", ""), 400},
      {"tools not array", with("tools", "x"), 400},
      {"tool without function", with("tools", {{{"type", "function"}}}), 400},
      {"bad tool_choice", with("tool_choice", "sometimes"), 400},
      {"chat_template_kwargs not object", with("chat_template_kwargs", 1), 400},
      {"enable_thinking not bool", with("chat_template_kwargs", {{"enable_thinking", "on"}}), 400},
      {"json_schema without schema", with("response_format", {{"type", "json_schema"}}), 400},
      {"json_schema with an unsupported keyword",
       with("response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "string"}, {"pattern", "x"}}}}}}), 400},
      {"response_format not object", with("response_format", "json"), 400},
      {"unknown response_format", with("response_format", {{"type", "xml"}}), 400},
      {"logprobs", with("logprobs", true), 400},
      {"huge body", std::string(1 << 17, ' '), 413},
  };
  ASSERT_GE(cases.size(), 25u);
  for (const Case& c : cases) {
    auto res = r.client->Post("/v1/chat/completions", c.body, "application/json");
    ASSERT_TRUE(res) << c.what;
    EXPECT_EQ(res->status, c.status) << c.what << ": " << res->body;
    json e = json::parse(res->body, nullptr, false);
    EXPECT_TRUE(e.is_object() && e.contains("error") && e["error"].contains("message") && e["error"].contains("type"))
        << c.what << ": " << res->body;
  }
  auto completion = r.client->Post("/v1/completions", json{{"max_tokens", 2}}.dump(), "application/json");
  EXPECT_EQ(completion->status, 400);
  EXPECT_EQ(r.client->Get("/v1/nothing")->status, 404);
  EXPECT_EQ(r.client->Get("/health")->status, 200);
  EXPECT_EQ(Post(*r.client, "/v1/chat/completions", Chat(2, 1))["usage"]["completion_tokens"], 2);
}

}  // namespace
}  // namespace pocket::server

namespace pocket::server {
namespace {

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// A 48x48 24-bit BMP and a 1 s 16 kHz 16-bit WAV, built by hand.
std::string Bmp() {
  std::string b(54 + 48 * 48 * 3, '\0');
  const uint32_t size = static_cast<uint32_t>(b.size()), w = 48, off = 54, hdr = 40;
  const uint16_t planes = 1, bpp = 24;
  b[0] = 'B', b[1] = 'M';
  std::memcpy(&b[2], &size, 4), std::memcpy(&b[10], &off, 4), std::memcpy(&b[14], &hdr, 4);
  std::memcpy(&b[18], &w, 4), std::memcpy(&b[22], &w, 4), std::memcpy(&b[26], &planes, 2), std::memcpy(&b[28], &bpp, 2);
  for (size_t i = 54; i < b.size(); ++i) b[i] = static_cast<char>(i * 7);
  return b;
}

std::string Wav() {
  const uint32_t n = 16000, data = n * 2, riff = 36 + data, fmt = 16, rate = 16000, byte_rate = 32000;
  const uint16_t pcm = 1, ch = 1, align = 2, bits = 16;
  std::string w = "RIFF";
  w.append(reinterpret_cast<const char*>(&riff), 4).append("WAVEfmt ").append(reinterpret_cast<const char*>(&fmt), 4);
  w.append(reinterpret_cast<const char*>(&pcm), 2).append(reinterpret_cast<const char*>(&ch), 2);
  w.append(reinterpret_cast<const char*>(&rate), 4).append(reinterpret_cast<const char*>(&byte_rate), 4);
  w.append(reinterpret_cast<const char*>(&align), 2).append(reinterpret_cast<const char*>(&bits), 2);
  w.append("data").append(reinterpret_cast<const char*>(&data), 4);
  for (uint32_t i = 0; i < n; ++i) {
    const int16_t s = static_cast<int16_t>(8000 * std::sin(i * 0.1));
    w.append(reinterpret_cast<const char*>(&s), 2);
  }
  return w;
}

TEST(Server, ImagesAndAudioInChatRequests) {
  const std::string mm_path = testing::TempDir() + "/tiny-mmproj.gguf";
  TestModelOptions mo;
  mo.shape = "tiny";
  mo.type = FileType::kQ8_0;
  mo.out_path = mm_path;
  ASSERT_TRUE(WriteTestMmproj(mo).ok());
  auto mm = Mmproj::Open(mm_path);
  ASSERT_TRUE(mm.ok()) << mm.status().ToString();
  ServerOptions o;
  o.mmproj = mm->get();
  o.media.image_budget = 70;
  Running r = Start(o);
  const json image = {{"type", "image_url"}, {"image_url", {{"url", "data:image/bmp;base64," + Base64(Bmp())}}}};
  const json audio = {{"type", "input_audio"}, {"input_audio", {{"data", Base64(Wav())}, {"format", "wav"}}}};
  const json text = {{"type", "text"}, {"text", "What is this?"}};
  auto chat = [&](json content) {
    return json{{"messages", {{{"role", "user"}, {"content", std::move(content)}}}}, {"max_tokens", 2}, {"seed", 1}};
  };
  json a = Post(*r.client, "/v1/chat/completions", chat(json::array({image, text})));
  const int64_t with_image = a["usage"]["prompt_tokens"].get<int64_t>();
  json plain = Post(*r.client, "/v1/chat/completions", chat(json::array({text})));
  EXPECT_EQ(with_image, plain["usage"]["prompt_tokens"].get<int64_t>() + 64 + 2);  // 8x8 pooled grid + wrappers
  json b = Post(*r.client, "/v1/chat/completions", chat(json::array({audio, image, text})));
  EXPECT_EQ(b["usage"]["prompt_tokens"].get<int64_t>(), with_image + 25 + 2);  // 1 s of audio: 25 tokens
  // Streaming works with media too.
  auto res = r.client->Post("/v1/chat/completions", [&] { json c = chat(json::array({image, text})); c["stream"] = true; return c.dump(); }(),
                            "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Events(res->body).back(), "[DONE]");
  // Bad media: each a 400 with a message, and the server stays healthy.
  struct Bad {
    json content;
    const char* role;
    const char* code;
  } bad[] = {
      {json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,@@@"}}}}}), "user", "invalid_image"},
      {json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + Base64("hello")}}}}}), "user", "invalid_image"},
      {json::array({{{"type", "image_url"}, {"image_url", {{"url", "https://example.com/cat.png"}}}}}), "user", "remote_media_disabled"},
      {json::array({{{"type", "image_url"}, {"image_url", {{"url", "file:///etc/passwd"}}}}}), "user", "invalid_image"},
      {json::array({{{"type", "image_url"}}}), "user", "missing_field"},
      {json::array({{{"type", "input_audio"}, {"input_audio", {{"data", Base64(Bmp())}}}}}), "user", "invalid_audio"},
      {json::array({image}), "system", nullptr},
  };
  for (const Bad& c : bad) {
    json req = {{"messages", {{{"role", c.role}, {"content", c.content}}}}, {"max_tokens", 2}};
    if (std::string(c.role) == "system") req["messages"].push_back({{"role", "user"}, {"content", "hi"}});
    json e = Post(*r.client, "/v1/chat/completions", req, 400);
    ASSERT_TRUE(e.contains("error")) << e.dump();
    if (c.code) {
      EXPECT_EQ(e["error"]["code"], c.code) << e.dump();
    }
  }
  json many = chat(json::array());
  for (int i = 0; i < 9; ++i) many["messages"][0]["content"].push_back(image);
  Post(*r.client, "/v1/chat/completions", many, 400);
  EXPECT_EQ(Post(*r.client, "/v1/chat/completions", chat(json::array({image, text})))["usage"]["prompt_tokens"], with_image);
  // A server without a projector refuses media politely.
  Running plain_server = Start(ServerOptions{});
  json e = Post(*plain_server.client, "/v1/chat/completions", chat(json::array({image, text})), 400);
  EXPECT_NE(e["error"]["message"].get<std::string>().find("--mmproj"), std::string::npos);
}

}  // namespace
}  // namespace pocket::server
