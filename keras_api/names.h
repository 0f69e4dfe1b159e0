// Looking up things by their Keras name, with errors that list the names Horn knows.
#pragma once
#include <string>
#include <vector>

#include "core/errors.h"

namespace horn::keras {

inline std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

[[noreturn]] inline void unknown_name(const std::string& what, const std::string& name,
                                      const std::vector<std::string>& known) {
  fail("unknown ", what, " '", name, "'; known: ", join_names(known));
}

}  // namespace horn::keras
