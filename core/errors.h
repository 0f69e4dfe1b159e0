// One error type at the public API. Messages name the culprit: the op, the node, the layer
// or the file, what was expected and what was found.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace horn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// str_cat("a", 1, 'b') == "a1b"; anything with operator<< works.
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str_cat(args...));
}

// Internal invariants: a failure here is a bug in Horn, not in the caller's input.
#define HORN_ASSERT(cond, ...)                                                      \
  do {                                                                              \
    if (!(cond))                                                                    \
      ::horn::fail("internal error at ", __FILE__, ":", __LINE__, ": ", #cond, " ", \
                   ##__VA_ARGS__);                                                  \
  } while (0)

}  // namespace horn
