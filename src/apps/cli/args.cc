#include "apps/cli/args.h"

#include <cerrno>
#include <cctype>
#include <cstdlib>

namespace pocket::cli {
namespace {

std::vector<std::string> SplitNames(const std::string& names) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= names.size()) {
    const size_t comma = names.find(',', start);
    out.push_back(names.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

const FlagSpec* Args::Lookup(const std::string& arg, std::string* canonical) const {
  for (const FlagSpec& f : flags_) {
    const auto names = SplitNames(f.names);
    for (const std::string& n : names) {
      if (n == arg) {
        *canonical = names.back();
        return &f;
      }
    }
  }
  return nullptr;
}

bool Args::Parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help_ = true;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && !(arg.size() > 1 && (std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.'))) {
      std::string inline_value;
      bool has_inline = false;
      const size_t eq = arg.find('=');
      if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
      std::string canonical;
      const FlagSpec* f = Lookup(arg, &canonical);
      if (f == nullptr) {
        error_ = "unknown option '" + arg + "' (see 'pocket " + command_ + " --help')";
        return false;
      }
      if (f->value.empty()) {
        if (has_inline) {
          error_ = "option '" + arg + "' takes no value";
          return false;
        }
        values_[canonical].push_back("");
        continue;
      }
      if (has_inline) {
        values_[canonical].push_back(inline_value);
      } else {
        if (i + 1 >= argc) {
          error_ = "option '" + arg + "' needs a value (" + f->value + ")";
          return false;
        }
        values_[canonical].push_back(argv[++i]);
      }
      continue;
    }
    positionals_.push_back(arg);
  }
  return true;
}

bool Args::Has(const std::string& name) const { return values_.count(name) > 0; }

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

bool Args::GetInt(const std::string& name, long long fallback, long long lo, long long hi, long long* out) {
  if (!Has(name)) {
    *out = fallback;
    return true;
  }
  const std::string v = Get(name);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || x < lo || x > hi) {
    error_ = "option '" + name + "' expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + v + "'";
    return false;
  }
  *out = x;
  return true;
}

bool Args::GetDouble(const std::string& name, double fallback, double lo, double hi, double* out) {
  if (!Has(name)) {
    *out = fallback;
    return true;
  }
  const std::string v = Get(name);
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno != 0 || !(x >= lo && x <= hi)) {
    error_ = "option '" + name + "' expects a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + v + "'";
    return false;
  }
  *out = x;
  return true;
}

std::string Args::HelpText() const {
  std::string s = "usage: pocket " + command_ + " " + usage_ + "\n\noptions:\n";
  for (const FlagSpec& f : flags_) {
    std::string left = "  " + f.names + (f.value.empty() ? "" : " " + f.value);
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    s += left + f.help + "\n";
  }
  s += "  -h,--help                   show this help\n";
  return s;
}

}  // namespace pocket::cli
