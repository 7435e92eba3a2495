#include "apps/hub/hub.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

namespace pocket::hub {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

uint64_t FileSize(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

Status MakeDirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && !Exists(cur) && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return IoError(StrFormat("cannot create folder %s: %s", cur.c_str(), std::strerror(errno)));
      }
    }
    if (i < dir.size()) cur.push_back(dir[i]);
  }
  return Status::Ok();
}

std::string Endpoint(const PullOptions& o) {
  if (!o.endpoint.empty()) return o.endpoint;
  const char* e = std::getenv("POCKET_HF_ENDPOINT");
  return e != nullptr && *e ? e : "https://huggingface.co";
}

struct Spec {
  std::string repo, quant;
};

Result<Spec> ParseSpec(const std::string& s) {
  Spec spec;
  const size_t colon = s.find(':');
  spec.repo = s.substr(0, colon);
  if (colon != std::string::npos) spec.quant = s.substr(colon + 1);
  const size_t slash = spec.repo.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == spec.repo.size() ||
      spec.repo.find('/', slash + 1) != std::string::npos || spec.repo.find("..") != std::string::npos) {
    return InvalidArgument("'" + s + "' is not a model name: expected owner/name or owner/name:QUANT");
  }
  return spec;
}

std::string OfflineHint(const std::string& cache, const std::string& repo) {
  return "; to use the model offline, download it on a connected machine and put it in " + cache + "/" + repo +
         "/ (a .gguf file, or config.json + *.safetensors + tokenizer.json), or pass its path to -m";
}

class Curl {
 public:
  Curl() : h_(curl_easy_init()) {}
  ~Curl() {
    if (h_) curl_easy_cleanup(h_);
    if (headers_) curl_slist_free_all(headers_);
  }
  CURL* get() const { return h_; }
  void Setup(const std::string& url) {
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(h_, CURLOPT_USERAGENT, "pocket/" POCKET_VERSION);
    curl_easy_setopt(h_, CURLOPT_FAILONERROR, 0L);
    if (const char* token = std::getenv("HF_TOKEN"); token != nullptr && *token) {
      headers_ = curl_slist_append(headers_, (std::string("Authorization: Bearer ") + token).c_str());
      curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers_);
    }
  }

 private:
  CURL* h_;
  curl_slist* headers_ = nullptr;
};

size_t AppendToString(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

Status CurlError(CURLcode rc, const std::string& url, const std::string& hint) {
  return IoError(StrFormat("cannot reach %s: %s", url.c_str(), curl_easy_strerror(rc)) + hint);
}

Result<std::string> GetText(const std::string& url, const std::string& hint) {
  Curl c;
  if (!c.get()) return Internal("curl_easy_init failed");
  c.Setup(url);
  std::string body;
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK) return CurlError(rc, url, hint);
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status == 401 || status == 403) return InvalidArgument(StrFormat("%s: HTTP %ld (gated or private repository: set HF_TOKEN)", url.c_str(), status));
  if (status == 404) return NotFound(StrFormat("%s: HTTP 404 (no such repository or file)", url.c_str()));
  if (status >= 400) return IoError(StrFormat("%s: HTTP %ld", url.c_str(), status));
  return body;
}

struct Download {
  FILE* f = nullptr;
  const PullOptions* o = nullptr;
  std::string name;
  uint64_t offset = 0, total = 0;
};

size_t WriteFile(char* p, size_t size, size_t n, void* user) {
  auto* d = static_cast<Download*>(user);
  return std::fwrite(p, size, n, d->f) * size;
}

int Progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* d = static_cast<Download*>(user);
  if (d->o->progress && dltotal > 0) {
    d->o->progress(d->name, d->offset + static_cast<uint64_t>(dlnow), d->offset + static_cast<uint64_t>(dltotal));
  }
  return 0;
}

// Downloads `url` to `dest`, resuming `dest.part`; checks size and SHA-256 when known.
Status FetchFile(const std::string& url, const std::string& dest, uint64_t size, const std::string& sha256,
                 const PullOptions& o, const std::string& hint, uint64_t* downloaded) {
  if (Exists(dest) && (size == 0 || FileSize(dest) == size)) return Status::Ok();
  const std::string part = dest + ".part";
  for (int attempt = 0; attempt < 2; ++attempt) {
    Download d;
    d.o = &o;
    d.name = dest.substr(dest.find_last_of('/') + 1);
    d.offset = FileSize(part);
    if (size > 0 && d.offset > size) d.offset = 0;
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(part.c_str(), d.offset > 0 ? "ab" : "wb"), &std::fclose);
    if (!f) return IoError(StrFormat("cannot write %s: %s", part.c_str(), std::strerror(errno)));
    d.f = f.get();
    Curl c;
    c.Setup(url);
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, WriteFile);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(c.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c.get(), CURLOPT_XFERINFOFUNCTION, Progress);
    curl_easy_setopt(c.get(), CURLOPT_XFERINFODATA, &d);
    if (d.offset > 0) curl_easy_setopt(c.get(), CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(d.offset));
    const CURLcode rc = curl_easy_perform(c.get());
    f.reset();
    if (rc != CURLE_OK && rc != CURLE_RANGE_ERROR) return CurlError(rc, url, hint + " (the partial download is kept and resumes next time)");
    long status = 0;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status == 416 || (d.offset > 0 && status == 200)) {  // range not honoured: start over
      std::remove(part.c_str());
      continue;
    }
    if (status >= 400) {
      std::remove(part.c_str());
      return IoError(StrFormat("%s: HTTP %ld", url.c_str(), status));
    }
    *downloaded += FileSize(part) - d.offset;
    if (size > 0 && FileSize(part) != size) {
      return IoError(StrFormat("%s: got %llu bytes, expected %llu (the partial download is kept and resumes next time)",
                               url.c_str(), (unsigned long long)FileSize(part), (unsigned long long)size));
    }
    if (!sha256.empty()) {
      ASSIGN_OR_RETURN(std::string got, Sha256File(part));
      if (got != Lower(sha256)) {
        std::remove(part.c_str());
        return DataLoss(StrFormat("%s: SHA-256 mismatch (expected %s, got %s); the download was deleted", d.name.c_str(),
                                  sha256.c_str(), got.c_str()));
      }
    }
    if (std::rename(part.c_str(), dest.c_str()) != 0) return IoError("cannot move " + part + " into place");
    return Status::Ok();
  }
  return IoError(url + ": the server does not resume downloads consistently");
}

bool IsPreferredGguf(const std::string& name) {
  const std::string l = Lower(name);
  return l.size() > 5 && l.compare(l.size() - 5, 5, ".gguf") == 0;
}

// The GGUF to fetch for `quant` (or by preference), never an mmproj; its split parts too.
std::vector<std::string> ChooseGguf(const std::vector<std::string>& ggufs, const std::string& quant) {
  std::vector<std::string> models;
  for (const std::string& g : ggufs) {
    if (Lower(g).find("mmproj") == std::string::npos) models.push_back(g);
  }
  auto pick = [&](const std::string& q) {
    std::vector<std::string> out;
    for (const std::string& m : models) {
      if (Lower(m).find(Lower(q)) != std::string::npos) out.push_back(m);
    }
    return out;
  };
  if (!quant.empty()) return pick(quant);
  for (const char* q : {"Q4_K_M", "Q4_0", "Q8_0"}) {
    if (auto p = pick(q); !p.empty()) return p;
  }
  return models.empty() ? models : std::vector<std::string>{models.front()};
}

}  // namespace

std::string CacheDir() {
  if (const char* c = std::getenv("POCKET_CACHE"); c != nullptr && *c) return c;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.cache/pocket";
}

Result<std::string> Sha256File(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return IoError(StrFormat("cannot read %s: %s", path.c_str(), std::strerror(errno)));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) EVP_DigestUpdate(ctx.get(), buf.data(), n);
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += StrFormat("%02x", md[i]);
  return hex;
}

Result<PullResult> Pull(const std::string& spec_text, const PullOptions& o) {
  ASSIGN_OR_RETURN(Spec spec, ParseSpec(spec_text));
  const std::string cache = o.cache_dir.empty() ? CacheDir() : o.cache_dir;
  const std::string endpoint = Endpoint(o);
  const std::string hint = OfflineHint(cache, spec.repo);
  auto listing_or = GetText(endpoint + "/api/models/" + spec.repo + "/tree/main?recursive=1", hint);
  if (!listing_or.ok() && listing_or.status().code() == StatusCode::kIoError && o.cache_dir.empty()) {
    // Offline but already cached: that is what the user wants.
    if (auto cached = ResolveModel(spec_text); cached.ok()) {
      PullResult r;
      r.model_path = *cached;
      r.files.push_back(*cached);
      return r;
    }
  }
  ASSIGN_OR_RETURN(std::string listing, std::move(listing_or));
  json tree = json::parse(listing, nullptr, false);
  if (!tree.is_array()) return DataLoss(endpoint + ": unexpected answer listing " + spec.repo);
  struct Entry {
    std::string path, sha;
    uint64_t size = 0;
  };
  std::vector<Entry> files;
  std::vector<std::string> ggufs;
  for (const json& e : tree) {
    if (!e.is_object() || e.value("type", "") != "file" || !e.contains("path") || !e["path"].is_string()) continue;
    Entry f;
    f.path = e["path"].get<std::string>();
    if (f.path.find("..") != std::string::npos || f.path.empty() || f.path[0] == '/') continue;  // hostile listing
    f.size = e.value("size", 0ull);
    if (e.contains("lfs") && e["lfs"].is_object()) {
      f.sha = e["lfs"].value("oid", "");
      f.size = e["lfs"].value("size", f.size);
    }
    files.push_back(f);
    if (IsPreferredGguf(f.path)) ggufs.push_back(f.path);
  }
  std::vector<std::string> wanted;
  PullResult r;
  const std::string dir = cache + "/" + spec.repo;
  if (!ggufs.empty()) {
    wanted = ChooseGguf(ggufs, spec.quant);
    if (wanted.empty()) return NotFound(spec.repo + " has no GGUF matching '" + spec.quant + "'");
    std::sort(wanted.begin(), wanted.end());
    r.model_path = dir + "/" + wanted.front();
    for (const std::string& g : ggufs) {
      if (Lower(g).find("mmproj") != std::string::npos && r.mmproj_path.empty()) {
        wanted.push_back(g);
        r.mmproj_path = dir + "/" + g;
      }
    }
  } else {
    if (!spec.quant.empty()) return InvalidArgument(spec.repo + " is not a GGUF repository; drop ':" + spec.quant + "'");
    for (const Entry& f : files) {
      const std::string l = Lower(f.path);
      if (l == "config.json" || l == "generation_config.json" || l == "tokenizer.json" || l == "tokenizer_config.json" ||
          l == "chat_template.jinja" || l == "model.safetensors.index.json" ||
          (l.size() > 12 && l.compare(l.size() - 12, 12, ".safetensors") == 0)) {
        wanted.push_back(f.path);
      }
    }
    if (std::find(wanted.begin(), wanted.end(), "config.json") == wanted.end()) {
      return NotFound(spec.repo + " has neither GGUF files nor a config.json: not a model pocket can run");
    }
    r.model_path = dir;
  }
  for (const std::string& w : wanted) {
    const Entry& f = *std::find_if(files.begin(), files.end(), [&](const Entry& e) { return e.path == w; });
    const std::string dest = dir + "/" + f.path;
    RETURN_IF_ERROR(MakeDirs(dest.substr(0, dest.find_last_of('/'))));
    RETURN_IF_ERROR(FetchFile(endpoint + "/" + spec.repo + "/resolve/main/" + f.path, dest, f.size, f.sha, o, hint,
                              &r.bytes_downloaded));
    r.files.push_back(dest);
  }
  return r;
}

namespace {

struct Capped {
  std::string* out;
  size_t max;
  bool overflow = false;
};

size_t AppendCapped(char* p, size_t size, size_t n, void* user) {
  auto* c = static_cast<Capped*>(user);
  if (c->out->size() + size * n > c->max) {
    c->overflow = true;
    return 0;  // aborts the transfer
  }
  c->out->append(p, size * n);
  return size * n;
}

}  // namespace

Result<std::string> FetchUrl(const std::string& url, size_t max_bytes) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return InvalidArgument("only http(s) URLs can be fetched");
  CURL* h = curl_easy_init();
  if (h == nullptr) return Internal("curl_easy_init failed");
  std::string body;
  Capped cap{&body, max_bytes};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "pocket/" POCKET_VERSION);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, AppendCapped);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &cap);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(h);
  if (cap.overflow) return InvalidArgument(StrFormat("%s: more than %zu bytes", url.c_str(), max_bytes));
  if (rc != CURLE_OK) return IoError(StrFormat("cannot fetch %s: %s", url.c_str(), curl_easy_strerror(rc)));
  if (status >= 400) return IoError(StrFormat("%s: HTTP %ld", url.c_str(), status));
  return body;
}

Result<std::string> ResolveModel(const std::string& m) {
  if (Exists(m)) return m;
  auto spec = ParseSpec(m);
  if (!spec.ok()) return NotFound(m + ": no such file or folder");
  const std::string dir = CacheDir() + "/" + spec->repo;
  if (!Exists(dir)) {
    return NotFound(m + ": no such file, and not in the model cache " + CacheDir() + " (run: pocket pull " + m + ")");
  }
  if (Exists(dir + "/config.json") && spec->quant.empty()) return dir;
  std::vector<std::string> ggufs;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (IsPreferredGguf(e->d_name)) ggufs.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(ggufs.begin(), ggufs.end());
  const std::vector<std::string> pick = ChooseGguf(ggufs, spec->quant);
  if (pick.empty()) return NotFound(m + ": the cache folder " + dir + " has no matching model file (run: pocket pull " + m + ")");
  return dir + "/" + pick.front();
}

std::string CachedMmprojFor(const std::string& m) {
  if (Exists(m)) return "";
  auto spec = ParseSpec(m);
  if (!spec.ok()) return "";
  const std::string dir = CacheDir() + "/" + spec->repo;
  std::vector<std::string> found;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (Lower(name).find("mmproj") != std::string::npos && name.size() > 5 && name.substr(name.size() - 5) == ".gguf") {
        found.push_back(name);
      }
    }
    closedir(d);
  }
  std::sort(found.begin(), found.end());
  return found.empty() ? "" : dir + "/" + found.front();
}

}  // namespace pocket::hub
