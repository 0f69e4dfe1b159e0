// Node attributes: compile-time parameters of an op (axes, transpose flags, dtypes, ...).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace horn {

class FusedProgram;  // core/fused_program.h: only compiled graphs hold one

using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, DType, Shape, Tensor,
                               std::shared_ptr<const FusedProgram>>;

class AttrMap {
 public:
  AttrMap() = default;
  AttrMap(std::initializer_list<std::pair<const std::string, AttrValue>> init) : values_(init) {}

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  void set(const std::string& name, AttrValue v) { values_[name] = std::move(v); }

  template <typename T>
  const T& get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) fail("attribute '", name, "' is missing");
    if (auto* v = std::get_if<T>(&it->second)) return *v;
    fail("attribute '", name, "' has another type than requested");
  }
  template <typename T>
  T get_or(const std::string& name, T fallback) const {
    return has(name) ? get<T>(name) : fallback;
  }
  const std::map<std::string, AttrValue>& values() const { return values_; }

 private:
  std::map<std::string, AttrValue> values_;
};

// Doubles print exactly (see exact_double_string), so that keys built from attributes
// (common-subexpression elimination) tell apart values that differ in any bit.
std::string attr_to_string(const AttrValue& v);

// The shortest text that std::stod parses back to exactly `v` ("0.1", "1e-07",
// "0.1234567891234"): for attributes and model files, where 6 significant digits would
// merge or change values.
std::string exact_double_string(double v);

}  // namespace horn
