#include "ops/eager.h"

#include "core/session.h"

namespace horn {

Tensor eager(const std::vector<Tensor>& inputs, const std::function<Output(const std::vector<Output>&)>& op) {
  Graph g;
  std::vector<Output> placeholders;
  Session::Feeds feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) fail("eager: input ", i, " is an empty tensor");
    placeholders.push_back(ops::Placeholder(g, inputs[i].dtype(), inputs[i].shape(), "x" + std::to_string(i)));
    feeds.push_back({placeholders.back(), inputs[i]});
  }
  const Output y = op(placeholders);
  // The reference interpreter: one op needs no compiling, and nothing is worth caching.
  Session s(g, {.optimize = false});
  return s.run(feeds, y);
}

namespace {
template <typename Fn>
Tensor binary(const Tensor& a, const Tensor& b, Fn fn) {
  return eager({a, b}, [&](const std::vector<Output>& v) { return fn(v[0], v[1]); });
}
template <typename Fn>
Tensor unary(const Tensor& a, Fn fn) {
  return eager({a}, [&](const std::vector<Output>& v) { return fn(v[0]); });
}
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return binary(a, b, [](Output x, Output y) { return x + y; }); }
Tensor operator-(const Tensor& a, const Tensor& b) { return binary(a, b, [](Output x, Output y) { return x - y; }); }
Tensor operator*(const Tensor& a, const Tensor& b) { return binary(a, b, [](Output x, Output y) { return x * y; }); }
Tensor operator/(const Tensor& a, const Tensor& b) { return binary(a, b, [](Output x, Output y) { return x / y; }); }
Tensor operator-(const Tensor& a) { return unary(a, [](Output x) { return -x; }); }
Tensor operator+(const Tensor& a, double b) { return unary(a, [b](Output x) { return x + b; }); }
Tensor operator-(const Tensor& a, double b) { return unary(a, [b](Output x) { return x - b; }); }
Tensor operator*(const Tensor& a, double b) { return unary(a, [b](Output x) { return x * b; }); }
Tensor operator/(const Tensor& a, double b) { return unary(a, [b](Output x) { return x / b; }); }
Tensor operator+(double a, const Tensor& b) { return unary(b, [a](Output x) { return a + x; }); }
Tensor operator-(double a, const Tensor& b) { return unary(b, [a](Output x) { return a - x; }); }
Tensor operator*(double a, const Tensor& b) { return unary(b, [a](Output x) { return a * x; }); }
Tensor operator/(double a, const Tensor& b) { return unary(b, [a](Output x) { return a / x; }); }

Tensor operator<(const Tensor& a, const Tensor& b) { return binary(a, b, [](Output x, Output y) { return ops::Less(x, y); }); }
Tensor operator<=(const Tensor& a, const Tensor& b) {
  return binary(a, b, [](Output x, Output y) { return ops::LessEqual(x, y); });
}
Tensor operator>(const Tensor& a, const Tensor& b) {
  return binary(a, b, [](Output x, Output y) { return ops::Greater(x, y); });
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
  return binary(a, b, [](Output x, Output y) { return ops::GreaterEqual(x, y); });
}
Tensor operator<(const Tensor& a, double b) { return a < Tensor::fill(a.dtype(), Shape{}, b); }
Tensor operator<=(const Tensor& a, double b) { return a <= Tensor::fill(a.dtype(), Shape{}, b); }
Tensor operator>(const Tensor& a, double b) { return a > Tensor::fill(a.dtype(), Shape{}, b); }
Tensor operator>=(const Tensor& a, double b) { return a >= Tensor::fill(a.dtype(), Shape{}, b); }

namespace tensor {
Tensor equal(const Tensor& a, const Tensor& b) {
  return binary(a, b, [](Output x, Output y) { return ops::Equal(x, y); });
}
Tensor argmax(const Tensor& x, int64_t axis) { return unary(x, [axis](Output v) { return ops::ArgMax(v, axis); }); }
Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return unary(x, [&](Output v) { return ops::Sum(v, axes, keepdims); });
}
Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return unary(x, [&](Output v) { return ops::Mean(v, axes, keepdims); });
}
Tensor max(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return unary(x, [&](Output v) { return ops::Max(v, axes, keepdims); });
}
Tensor reshape(const Tensor& x, const Shape& shape) { return unary(x, [&](Output v) { return ops::Reshape(v, shape); }); }
}  // namespace tensor

}  // namespace horn
