#include "common/test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "model/test_model.h"

namespace pocket::testing {

static bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string GoldenDir() {
  if (const char* env = std::getenv("POCKET_GOLDEN_DIR"); env && *env) return IsDir(env) ? env : "";
  const std::string def = std::string(POCKET_SOURCE_DIR) + "/../shared/golden";
  return IsDir(def) ? def : "";
}

bool GoldenRequired() {
  const char* env = std::getenv("POCKET_REQUIRE_GOLDEN");
  return env && std::string(env) == "1";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<float> ReadF32(const std::string& path) {
  const std::string bytes = ReadFile(path);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::vector<std::string> GoldenSets(const std::string& kind) {
  std::vector<std::string> sets;
  const std::string root = GoldenDir() + "/" + kind;
  if (DIR* d = opendir(root.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name[0] == '.') continue;
      if (access((root + "/" + name + "/mmproj.gguf").c_str(), R_OK) == 0)
        sets.push_back(root + "/" + name);
    }
    closedir(d);
  }
  std::sort(sets.begin(), sets.end());
  return sets;
}

Closeness CompareRows(const std::vector<float>& got, const std::vector<float>& want, size_t width) {
  Closeness c;
  for (size_t t = 0; t * width < want.size(); ++t) {
    double dot = 0, ng = 0, nw = 0;
    for (size_t i = t * width; i < (t + 1) * width; ++i) {
      const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
      c.max_abs = std::max(c.max_abs, d);
      c.mean_abs += d;
      dot += static_cast<double>(got[i]) * want[i];
      ng += static_cast<double>(got[i]) * got[i];
      nw += static_cast<double>(want[i]) * want[i];
    }
    c.min_cos = std::min(c.min_cos, dot / std::sqrt(ng * nw + 1e-300));
  }
  c.mean_abs /= static_cast<double>(want.size());
  return c;
}

namespace {

// Every directory TempDir() made in this process, removed when the process exits. ctest runs
// each test case as its own process, so without this each one leaves its files (a tiny model is
// ~70 MB) behind and a few hundred runs fill the disk. Only the creating process removes them:
// a forked child that exits normally must not delete its parent's files.
class TempDirRegistry {
 public:
  ~TempDirRegistry() {
    if (getpid() != owner_) return;
    for (const std::string& dir : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  void Add(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(dir);
  }

 private:
  const pid_t owner_ = getpid();
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

TempDirRegistry& Registry() {
  static TempDirRegistry registry;
  return registry;
}

}  // namespace

std::string TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/pocket-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const char* dir = mkdtemp(buf.data());
  EXPECT_NE(dir, nullptr);
  if (!dir) return "/tmp";
  Registry().Add(dir);
  return dir;
}

static std::string Slurp(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

const std::string& TinyModelPath() {
  static const std::string path = [] {
    TestModelOptions o;
    o.shape = "tiny";
    o.type = FileType::kQ8_0;
    o.out_path = TempDir() + "/tiny.gguf";
    auto plan = WriteTestModel(o);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    return o.out_path;
  }();
  return path;
}

CommandResult RunPocket(const std::vector<std::string>& args) {
  return RunPocketWithInput(args, "");
}

CommandResult RunPocketWithInput(const std::vector<std::string>& args, const std::string& input) {
  const char* env = std::getenv("POCKET_BIN");
  const std::string bin = env && *env ? env : std::string(POCKET_BINARY_DIR) + "/bin/pocket";
  const std::string dir = TempDir();
  const std::string out_path = dir + "/stdout", err_path = dir + "/stderr",
                    in_path = dir + "/stdin";
  WriteFile(in_path, input);
  CommandResult r;
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int i = open(in_path.c_str(), O_RDONLY);
    dup2(i, 0);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const int o = open(out_path.c_str(), O_RDONLY);
  const int e = open(err_path.c_str(), O_RDONLY);
  r.out = Slurp(o);
  r.err = Slurp(e);
  close(o);
  close(e);
  return r;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> out;
  const std::string text = ReadFile(path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

}  // namespace pocket::testing
