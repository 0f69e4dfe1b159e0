#include "keras_api/regularizers.h"

#include <charconv>
#include <cmath>

#include "core/attr.h"
#include "core/errors.h"
#include "ops/ops.h"

namespace horn::keras::regularizers {

Regularizer::Regularizer(double l1, double l2) : l1_(l1), l2_(l2) {
  for (double f : {l1, l2})
    if (!(f >= 0) || !std::isfinite(f)) fail("regularizer: factors must be finite and >= 0, got l1=", l1, ", l2=", l2);
}

Regularizer::Regularizer(const char* name) : Regularizer(std::string(name)) {}

Regularizer::Regularizer(const std::string& name) {
  if (name == "l1") *this = regularizers::l1();
  else if (name == "l2") *this = regularizers::l2();
  else if (name == "l1_l2") *this = regularizers::l1_l2();
  else if (!name.empty()) fail("unknown regularizer '", name, "'; known: l1, l2, l1_l2 (factor 0.01)");
}

Output Regularizer::operator()(Output w) const {
  Graph& g = w.graph();
  Output penalty;
  // Keras adds the l1 term first, then the l2 term: the same float32 sums.
  if (l1_ != 0) penalty = ops::Scalar(g, l1_, w.dtype()) * ops::Sum(ops::Abs(w));
  if (l2_ != 0) {
    Output term = ops::Scalar(g, l2_, w.dtype()) * ops::Sum(ops::Square(w));
    penalty = penalty.valid() ? penalty + term : term;
  }
  if (!penalty.valid()) fail("regularizer: no factor is set, so there is no penalty to compute");
  return penalty;
}

std::string Regularizer::text() const {
  if (!active()) return "";
  return "l1=" + exact_double_string(l1_) + ",l2=" + exact_double_string(l2_);
}

Regularizer Regularizer::from_text(const std::string& text) {
  if (text.empty()) return {};
  // "l1=<number>,l2=<number>", each number whole.
  const size_t comma = text.find(",l2=");
  double factors[2] = {0, 0};
  const std::string parts[2] = {text.substr(0, comma), comma == std::string::npos ? "" : text.substr(comma + 4)};
  bool ok = text.rfind("l1=", 0) == 0 && comma != std::string::npos;
  for (int i = 0; ok && i < 2; ++i) {
    const char* begin = parts[i].data() + (i == 0 ? 3 : 0);
    const char* end = parts[i].data() + parts[i].size();
    const auto [stop, ec] = std::from_chars(begin, end, factors[i]);
    ok = ec == std::errc() && stop == end && begin != end;
  }
  if (!ok) fail("regularizer: expected 'l1=<number>,l2=<number>', got '", text, "'");
  return Regularizer(factors[0], factors[1]);
}

void add_penalty(const Regularizer& r, Output w, std::vector<Output>* penalties) {
  if (r.active() && w.valid()) penalties->push_back(r(w));
}

}  // namespace horn::keras::regularizers
