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
      size_t eq = arg.find('=');
      // A bare --name switches on a flag whose default is "false".
      if (eq == std::string::npos && arg.rfind("--", 0) == 0 && values_.count(arg.substr(2)) &&
          values_.at(arg.substr(2)) == "false") {
        arg += "=true";
        eq = arg.find('=');
      }
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
  // "true"/"1" or "false"/"0".
  bool boolean(const std::string& name) const {
    const std::string& v = values_.at(name);
    if (v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
    fail("flag --", name, " must be true or false, got '", v, "'");
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace horn::examples
