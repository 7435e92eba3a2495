// Tiny command-line parser shared by the pocket subcommands: declared flags with or without a
// value, repeated flags, positionals, and generated --help text. Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace pocket::cli {

struct FlagSpec {
  std::string names;  // "-m,--model"
  std::string value;  // placeholder ("PATH"); empty for boolean switches
  std::string help;
};

class Args {
 public:
  Args(std::string command, std::string usage, std::vector<FlagSpec> flags)
      : command_(std::move(command)), usage_(std::move(usage)), flags_(std::move(flags)) {}

  // Returns false on a usage error (message in error()). --help sets help_requested().
  bool Parse(int argc, char** argv);
  bool help_requested() const { return help_; }
  const std::string& error() const { return error_; }
  std::string HelpText() const;

  bool Has(const std::string& name) const;  // canonical long name, e.g. "--model"
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  // Integer flag; false (with error()) if present but not an integer in [lo, hi].
  bool GetInt(const std::string& name, long long fallback, long long lo, long long hi, long long* out);
  // Number flag; false (with error()) if present but not a finite number in [lo, hi].
  bool GetDouble(const std::string& name, double fallback, double lo, double hi, double* out);
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  const FlagSpec* Lookup(const std::string& arg, std::string* canonical) const;

  std::string command_, usage_;
  std::vector<FlagSpec> flags_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
  std::string error_;
};

}  // namespace pocket::cli
