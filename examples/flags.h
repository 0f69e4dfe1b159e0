// --name=value command-line flags for the examples, with defaults and a clear error for an
// unknown flag.
#pragma once
#include <map>
#include <string>

#include "core/errors.h"

namespace horn::examples {

class Flags {
 public:
  Flags(int argc, char** argv, std::map<std::string, std::string> defaults) : values_(std::move(defaults)) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      const size_t eq = arg.find('=');
      if (arg.rfind("--", 0) != 0 || eq == std::string::npos) fail("bad argument '", arg, "': expected --name=value");
      const std::string name = arg.substr(2, eq - 2);
      if (!values_.count(name)) {
        std::string known;
        for (const auto& [k, v] : values_) known += " --" + k;
        fail("unknown flag --", name, "; known:", known);
      }
      values_[name] = arg.substr(eq + 1);
    }
  }
  const std::string& str(const std::string& name) const { return values_.at(name); }
  int64_t integer(const std::string& name) const {
    try {
      return std::stoll(values_.at(name));
    } catch (const std::exception&) {
      fail("flag --", name, " must be an integer, got '", values_.at(name), "'");
    }
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace horn::examples
