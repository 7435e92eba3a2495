// `pocket pull` against a local stand-in for the Hugging Face hub: file choice by quant,
// resume of a partial download, SHA-256 verification, cache lookup, offline and 404 errors.
#include "apps/hub/hub.h"

#include <httplib.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/test_util.h"

namespace pocket::hub {
namespace {

using nlohmann::json;

class FakeHub : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = testing::TempDir();
    setenv("POCKET_CACHE", cache_.c_str(), 1);
    for (int i = 0; i < 300000; ++i) model_.push_back(static_cast<char>((static_cast<int64_t>(i) * 7919) % 251));
    mmproj_ = std::string(5000, 'p');
    server_.Get("/api/models/owner/repo-GGUF/tree/main", [this](const httplib::Request&, httplib::Response& res) {
      json files = json::array();
      files.push_back({{"type", "file"}, {"path", "README.md"}, {"size", 3}});
      files.push_back({{"type", "file"}, {"path", "repo-Q4_0.gguf"}, {"size", 10}, {"lfs", {{"oid", "00"}, {"size", 10}}}});
      files.push_back({{"type", "file"}, {"path", "repo-Q8_0.gguf"}, {"size", model_.size()},
                       {"lfs", {{"oid", bad_sha_ ? std::string(64, '0') : Sha(model_)}, {"size", model_.size()}}}});
      files.push_back({{"type", "file"}, {"path", "mmproj-repo-f16.gguf"}, {"size", mmproj_.size()}});
      files.push_back({{"type", "file"}, {"path", "../escape.gguf"}, {"size", 1}});
      res.set_content(files.dump(), "application/json");
    });
    server_.Get("/owner/repo-GGUF/resolve/main/repo-Q8_0.gguf", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      if (req.has_header("Range")) ++ranged_;
      res.set_content(model_, "application/octet-stream");
    });
    server_.Get("/owner/repo-GGUF/resolve/main/mmproj-repo-f16.gguf", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(mmproj_, "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    options_.endpoint = "http://127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
    unsetenv("POCKET_CACHE");
  }
  std::string Sha(const std::string& bytes) {
    const std::string p = testing::TempDir() + "/blob";
    testing::WriteFile(p, bytes);
    return *Sha256File(p);
  }

  std::string cache_, model_, mmproj_;
  bool bad_sha_ = false;
  int requests_ = 0, ranged_ = 0, port_ = 0;
  httplib::Server server_;
  std::thread thread_;
  PullOptions options_;
};

TEST_F(FakeHub, PullsTheRequestedQuantAndItsMmprojThenFindsThemInTheCache) {
  auto r = Pull("owner/repo-GGUF:q8_0", options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->model_path, cache_ + "/owner/repo-GGUF/repo-Q8_0.gguf");
  EXPECT_EQ(r->mmproj_path, cache_ + "/owner/repo-GGUF/mmproj-repo-f16.gguf");
  EXPECT_EQ(testing::ReadFile(r->model_path), model_);
  EXPECT_EQ(r->bytes_downloaded, model_.size() + mmproj_.size());
  // Already there: nothing is downloaded again.
  auto again = Pull("owner/repo-GGUF:Q8_0", options_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes_downloaded, 0u);
  EXPECT_EQ(requests_, 1);
  auto found = ResolveModel("owner/repo-GGUF:Q8_0");
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(*found, r->model_path);
  EXPECT_FALSE(ResolveModel("owner/other").ok());
  EXPECT_NE(ResolveModel("owner/other").status().message().find("pocket pull"), std::string::npos);
  // The projector pulled with it is found for the cached name (not for plain paths).
  EXPECT_EQ(CachedMmprojFor("owner/repo-GGUF:Q8_0"), r->mmproj_path);
  EXPECT_EQ(CachedMmprojFor(r->model_path), "");
  EXPECT_EQ(CachedMmprojFor("owner/other"), "");
}

TEST_F(FakeHub, ResumesAPartialDownload) {
  const std::string dir = cache_ + "/owner/repo-GGUF";
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  testing::WriteFile(dir + "/repo-Q8_0.gguf.part", model_.substr(0, 100000));
  auto r = Pull("owner/repo-GGUF:Q8_0", options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ranged_, 1);
  EXPECT_EQ(r->bytes_downloaded, model_.size() - 100000 + mmproj_.size());
  EXPECT_EQ(testing::ReadFile(r->model_path), model_);
}

TEST_F(FakeHub, ChecksumMismatchIsAnErrorAndLeavesNothing) {
  bad_sha_ = true;
  auto r = Pull("owner/repo-GGUF:Q8_0", options_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("SHA-256"), std::string::npos) << r.status().message();
  EXPECT_FALSE(ResolveModel("owner/repo-GGUF:Q8_0").ok());
}

TEST_F(FakeHub, MissingRepoQuantAndBadNames) {
  EXPECT_EQ(Pull("owner/nope", options_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Pull("owner/repo-GGUF:IQ1_S", options_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Pull("noslash", options_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Pull("a/b/c", options_).status().code(), StatusCode::kInvalidArgument);
}

TEST(Hub, OfflineSaysHowToPlaceFilesByHand) {
  PullOptions o;
  o.endpoint = "http://127.0.0.1:1";
  o.cache_dir = "/tmp/pocket-cache";
  auto r = Pull("google/gemma-4-E2B-it", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("/tmp/pocket-cache/google/gemma-4-E2B-it/"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("-m"), std::string::npos);
  setenv("POCKET_HF_ENDPOINT", "http://127.0.0.1:1", 1);  // never the real hub from a test
  auto cli = testing::RunPocket({"pull", "google/gemma-4-E2B-it"});
  unsetenv("POCKET_HF_ENDPOINT");
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.err.find("offline"), std::string::npos) << cli.err;
}

}  // namespace
}  // namespace pocket::hub
