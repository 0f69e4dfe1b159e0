#include "core/attr.h"

#include <charconv>

#include "core/fused_program.h"

namespace horn {

std::string attr_to_string(const AttrValue& v) {
  struct Printer {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const { return exact_double_string(x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string& x) const { return "\"" + x + "\""; }
    std::string operator()(const std::vector<int64_t>& x) const { return Shape(x).to_string(); }
    std::string operator()(DType x) const { return dtype_name(x); }
    std::string operator()(const Shape& x) const { return x.to_string(); }
    std::string operator()(const std::shared_ptr<const FusedProgram>& p) const { return "{" + p->to_string() + "}"; }
    std::string operator()(const Tensor& x) const {
      return x.size() <= 4 ? x.to_string() : dtype_name(x.dtype()) + x.shape().to_string();
    }
  };
  return std::visit(Printer{}, v);
}

std::string exact_double_string(double v) {
  char text[32];  // the longest shortest form, "-2.2250738585072014e-308", has 24
  const std::to_chars_result r = std::to_chars(text, text + sizeof text, v);
  HORN_ASSERT(r.ec == std::errc(), "to_chars failed on ", v);
  return std::string(text, r.ptr);
}

}  // namespace horn
