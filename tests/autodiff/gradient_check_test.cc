// Every differentiable op in the registry is checked against central finite differences in
// float64, with broadcasting shapes where the op broadcasts and grad_ys that are not ones.
//
// Tolerance: 1e-6 on |symbolic - numeric| / max(1, |symbolic|, |numeric|). With a step of
// 1e-6 in float64, central differences carry ~1e-10 of rounding and ~1e-12 of truncation
// error, so a correct rule lands near 1e-9; a wrong rule is off by O(1).
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "autodiff/gradient_checker.h"
#include "core/op_registry.h"
#include "tests/test_util.h"

namespace horn {
namespace {

constexpr DType f64 = DType::kFloat64;

// Builds y from placeholders it declares through `input`.
struct Builder {
  Graph& g;
  std::vector<Output> xs;
  std::vector<Tensor> values;
  uint64_t seed = 1;

  Output input(const Shape& s, double lo = -1, double hi = 1) {
    values.push_back(Tensor::uniform(f64, s, lo, hi, seed++));
    xs.push_back(ops::Placeholder(g, f64, s, "x" + std::to_string(xs.size())));
    return xs.back();
  }
  // Values of magnitude in [0.2, 1] with random signs: away from kinks at 0.
  Output input_away_from_zero(const Shape& s) {
    Tensor v = Tensor::uniform(f64, s, 0.2, 1, seed++);
    Tensor sign = Tensor::uniform(f64, s, -1, 1, seed++);
    for (int64_t i = 0; i < v.size(); ++i) if (sign.data<double>()[i] < 0) v.data<double>()[i] *= -1;
    values.push_back(v);
    xs.push_back(ops::Placeholder(g, f64, s, "x" + std::to_string(xs.size())));
    return xs.back();
  }
  // An independent input whose values differ from input k's by 0.2 to 1 (either sign), so
  // that Maximum/Minimum never sit on a tie.
  Output input_apart_from(size_t k, const Shape& s) {
    Output offset = input_away_from_zero(s);
    Tensor v = values.back().copy();
    const Tensor& base = values[k];
    for (int64_t i = 0; i < v.size(); ++i) v.data<double>()[i] += base.data<double>()[i % base.size()];
    values.back() = v;
    return offset;
  }
};

using CaseFn = std::function<Output(Builder&)>;

// One or more cases per op; the key is the op the case exercises.
const std::multimap<std::string, CaseFn>& cases() {
  static const auto* table = new std::multimap<std::string, CaseFn>{
      {"Add", [](Builder& b) { return b.input({3, 4}) + b.input({4}); }},
      {"Add", [](Builder& b) { return b.input({3, 1}) + b.input({1, 4}); }},
      {"Sub", [](Builder& b) { return b.input({2, 3}) - b.input({2, 1}); }},
      {"Mul", [](Builder& b) { return b.input({2, 3, 2}) * b.input({3, 1}); }},
      {"Div", [](Builder& b) { return b.input({3, 4}) / b.input({4}, 0.5, 2); }},
      {"Pow", [](Builder& b) { return ops::Pow(b.input({3, 4}, 0.5, 2), b.input({4}, -1.5, 2)); }},
      {"Maximum", [](Builder& b) {
         Output a = b.input({4});
         return ops::Maximum(b.input_apart_from(0, {3, 4}), a);
       }},
      {"Minimum", [](Builder& b) {
         Output a = b.input({3, 4});
         return ops::Minimum(a, b.input_apart_from(0, {3, 4}));
       }},
      {"Select", [](Builder& b) {
         Output a = b.input({3, 4}), c = b.input({3, 4});
         return ops::Select(ops::Greater(ops::StopGradient(a), ops::ZerosLike(a)), a * 2.0, ops::Exp(c));
       }},
      {"AddN", [](Builder& b) { Output a = b.input({2, 3}); return ops::AddN({a, b.input({2, 3}), a * a}); }},
      {"Neg", [](Builder& b) { return ops::Neg(b.input({5})); }},
      {"Exp", [](Builder& b) { return ops::Exp(b.input({5})); }},
      {"Log", [](Builder& b) { return ops::Log(b.input({5}, 0.2, 3)); }},
      {"Sqrt", [](Builder& b) { return ops::Sqrt(b.input({5}, 0.2, 3)); }},
      {"Square", [](Builder& b) { return ops::Square(b.input({5})); }},
      {"Abs", [](Builder& b) { return ops::Abs(b.input_away_from_zero({6})); }},
      {"Sigmoid", [](Builder& b) { return ops::Sigmoid(b.input({6}, -4, 4)); }},
      {"Tanh", [](Builder& b) { return ops::Tanh(b.input({6}, -3, 3)); }},
      {"Relu", [](Builder& b) { return ops::Relu(b.input_away_from_zero({8})); }},
      {"Softplus", [](Builder& b) { return ops::Softplus(b.input({6}, -5, 5)); }},
      {"Softsign", [](Builder& b) { return ops::Softsign(b.input_away_from_zero({6})); }},
      {"HardSigmoid", [](Builder& b) { return ops::HardSigmoid(b.input({6}, -2.3, 2.3) * 1.5); }},
      {"SigmoidGrad", [](Builder& b) { return ops::SigmoidGrad(b.input({5}, 0.1, 0.9), b.input({5})); }},
      {"TanhGrad", [](Builder& b) { return ops::TanhGrad(b.input({5}, -0.9, 0.9), b.input({5})); }},
      {"ReluGrad", [](Builder& b) {
         Output x = b.input_away_from_zero({6});
         return ops::ReluGrad(b.input({6}), ops::StopGradient(x)) * x;
       }},
      {"Softmax", [](Builder& b) { return ops::Softmax(b.input({3, 4}, -2, 2)); }},
      {"LogSoftmax", [](Builder& b) { return ops::LogSoftmax(b.input({3, 4}, -2, 2)); }},
      {"SoftmaxCrossEntropyWithLogits", [](Builder& b) {
         Output logits = b.input({3, 5}, -2, 2);  // created first: the checker's input order
         Output labels = ops::Softmax(b.input({3, 5}));
         return ops::SoftmaxCrossEntropyWithLogits({.labels = labels, .logits = logits});
       }},
      {"MatMul", [](Builder& b) { return ops::MatMul(b.input({3, 4}), b.input({4, 2})); }},
      {"MatMul", [](Builder& b) { return ops::MatMul(b.input({4, 3}), b.input({4, 2}), true, false); }},
      {"MatMul", [](Builder& b) { return ops::MatMul(b.input({3, 4}), b.input({2, 4}), false, true); }},
      {"MatMul", [](Builder& b) { return ops::MatMul(b.input({4, 3}), b.input({2, 4}), true, true); }},
      {"Sum", [](Builder& b) { return ops::Sum(b.input({2, 3, 4}), {0, 2}); }},
      {"Sum", [](Builder& b) { return ops::Sum(b.input({2, 3}), {1}, true); }},
      {"Mean", [](Builder& b) { return ops::Mean(b.input({2, 3, 4}), {1}); }},
      {"Mean", [](Builder& b) { return ops::Mean(b.input({2, 3})) * b.input({4}); }},
      {"Max", [](Builder& b) { return ops::Max(b.input({3, 5}), {1}); }},
      {"Max", [](Builder& b) { return ops::Max(b.input({3, 5}), {0}, true); }},
      {"BroadcastLike", [](Builder& b) {
         Output like = b.input({2, 3});
         return ops::BroadcastLike(b.input({3}), ops::StopGradient(like)) * like;
       }},
      {"ReduceToShapeLike", [](Builder& b) {
         Output like = b.input({3});
         return ops::ReduceToShapeLike(b.input({2, 3}), ops::StopGradient(like)) * like;
       }},
      {"Reshape", [](Builder& b) { return ops::Reshape(b.input({2, 6}), {3, -1}) * b.input({4}); }},
      {"ReshapeLike", [](Builder& b) {
         Output like = b.input({3, 4});
         return ops::ReshapeLike(b.input({2, 6}), ops::StopGradient(like)) * like;
       }},
      {"ExpandDims", [](Builder& b) { return ops::ExpandDims(b.input({2, 3}), 1) * b.input({4, 1}); }},
      {"Transpose", [](Builder& b) { return ops::Transpose(b.input({2, 3, 4}), {2, 0, 1}); }},
      {"Cast", [](Builder& b) { return ops::Cast(b.input({4}), f64) * b.input({4}); }},
      {"Identity", [](Builder& b) { return ops::Identity(b.input({4})); }},
      {"Conv2D", [](Builder& b) { return ops::Conv2D(b.input({2, 5, 6, 3}), b.input({3, 2, 3, 4})); }},
      {"Conv2D", [](Builder& b) { return ops::Conv2D(b.input({1, 7, 6, 2}), b.input({3, 3, 2, 3}), {2, 1}, "same"); }},
      {"Conv2D", [](Builder& b) {
         return ops::Conv2D(b.input({1, 7, 7, 2}), b.input({2, 2, 2, 2}), {1, 1}, "valid", {2, 3});
       }},
      {"Conv2DBackpropInput", [](Builder& b) {
         return ops::Conv2DBackpropInput(b.input({2, 3, 3, 4}), b.input({3, 3, 2, 4}), {-1, 6, 5, 2}, {2, 2}, "same");
       }},
      {"Conv2DBackpropFilter", [](Builder& b) {
         return ops::Conv2DBackpropFilter(b.input({2, 5, 5, 2}), b.input({2, 3, 3, 3}), {3, 3, 2, 3});
       }},
      {"MaxPool2D", [](Builder& b) { return ops::MaxPool2D(b.input({2, 4, 5, 3})); }},
      {"MaxPool2D", [](Builder& b) { return ops::MaxPool2D(b.input({1, 5, 5, 2}), {3, 3}, {2, 2}, "same"); }},
      {"MaxPoolGrad", [](Builder& b) {
         return ops::MaxPoolGrad(b.input({1, 5, 4, 2}), b.input({1, 3, 2, 2}), {2, 2}, {2, 2}, "same");
       }},
      {"MaxPoolGradGrad", [](Builder& b) {
         AttrMap attrs{{"ksize", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{1, 1}},
                       {"padding", std::string("valid")}};
         return b.g.add_node("MaxPoolGradGrad", {b.input({1, 4, 3, 2}), b.input({1, 4, 3, 2})}, attrs)->output();
       }},
      {"AvgPool2D", [](Builder& b) { return ops::AvgPool2D(b.input({2, 4, 4, 3})); }},
      {"AvgPool2D", [](Builder& b) { return ops::AvgPool2D(b.input({1, 5, 5, 2}), {3, 3}, {2, 2}, "same"); }},
      {"AvgPoolGrad", [](Builder& b) {
         return ops::AvgPoolGrad(b.input({1, 3, 3, 2}), {1, 5, 5, 2}, {3, 3}, {2, 2}, "same");
       }},
      // The mask is fixed within a run (the checker replays one random stream).
      {"Dropout", [](Builder& b) { return ops::Dropout(b.input({4, 5}), 0.4, 7); }},
      {"Pad", [](Builder& b) { return ops::Pad(b.input({2, 3}), {1, 0, 2, 1}); }},
      {"Slice", [](Builder& b) { return ops::Slice(b.input({3, 4}), {1, 1}, {2, -1}); }},
  };
  return *table;
}

// Ops on bfloat16 values, checked in float64 around them: y is linear in each input, so a
// large step (0.25) loses nothing to truncation and only the rounding of the inputs to
// bfloat16 (half an ulp, <= 2^-8 for |x| <= 1.25) errs: <= 2^-8 / 0.25 = 0.016 per term of
// the derivative. With grad_y and the other factor in [-1, 1] and sums of at most 3 terms,
// plus the rounding of dC and of the gradient to bfloat16 (2^-9 each), the error stays
// below 0.06; a wrong rule is off by O(1).
constexpr DType bf16 = DType::kBFloat16;
const std::multimap<std::string, CaseFn>& bfloat16_cases() {
  static const auto* table = new std::multimap<std::string, CaseFn>{
      {"Cast", [](Builder& b) { return ops::Cast(ops::Cast(b.input({4}), bf16), f64) * b.input({4}); }},
      {"MatMul", [](Builder& b) {
         Output a = ops::Cast(b.input({2, 3}), bf16), c = ops::Cast(b.input({3, 4}), bf16);
         return ops::Cast(ops::MatMul(a, c), f64);
       }},
      {"MatMul", [](Builder& b) {
         Output a = ops::Cast(b.input({3, 2}), bf16), c = ops::Cast(b.input({4, 3}), bf16);
         return ops::Cast(ops::MatMul(a, c, true, true), f64);
       }},
      // Each input and filter value meets at most two terms of a derivative's sum here.
      {"Conv2D", [](Builder& b) {
         Output x = ops::Cast(b.input({1, 3, 2, 1}), bf16), w = ops::Cast(b.input({2, 2, 1, 1}), bf16);
         return ops::Cast(ops::Conv2D(x, w), f64);
       }},
      {"Conv2D", [](Builder& b) {
         Output x = ops::Cast(b.input({1, 3, 3, 2}), bf16), w = ops::Cast(b.input({1, 1, 2, 1}), bf16);
         return ops::Cast(ops::Conv2D(x, w, {2, 2}, "same"), f64);
       }},
      {"Conv2DBackpropInput", [](Builder& b) {
         Output dy = ops::Cast(b.input({1, 2, 1, 1}), bf16), w = ops::Cast(b.input({2, 2, 1, 1}), bf16);
         return ops::Cast(ops::Conv2DBackpropInput(dy, w, {1, 3, 2, 1}), f64);
       }},
      {"Conv2DBackpropFilter", [](Builder& b) {
         Output x = ops::Cast(b.input({1, 3, 2, 1}), bf16), dy = ops::Cast(b.input({1, 2, 1, 1}), bf16);
         return ops::Cast(ops::Conv2DBackpropFilter(x, dy, {2, 2, 1, 1}), f64);
       }},
  };
  return *table;
}

// Ops whose float64 values are rounded to bfloat16's precision on the way (their gradient is
// the cast's straight-through rule), checked with the bfloat16 tolerances.
const std::multimap<std::string, CaseFn>& rounding_cases() {
  static const std::multimap<std::string, CaseFn> table = {
      {"RoundToBFloat16", [](Builder& b) { return ops::RoundToBFloat16(b.input({4})) * b.input({4}); }},
  };
  return table;
}

TEST(GradientCheck, EveryDifferentiableOpHasACheck) {
  std::set<std::string> checked;
  for (const auto& [op, fn] : cases()) checked.insert(op);
  for (const auto& [op, fn] : rounding_cases()) checked.insert(op);
  for (const OpDef* op : OpRegistry::global().all()) {
    if (!op->differentiable || op->is_source()) continue;
    EXPECT_TRUE(op->gradient) << op->name << " is differentiable but has no gradient rule";
    EXPECT_TRUE(checked.count(op->name)) << op->name << " has a gradient rule but no numeric check here";
  }
}

// How a table of cases is checked: the finite-difference step, grad_y's range (not all
// ones), the tolerance, and the dtype the op under test must have among its inputs.
struct CheckPolicy {
  double delta = 1e-6;
  double grad_y_bound = 2;
  double tolerance = 1e-6;
  std::optional<DType> op_input_dtype;
  uint64_t seed = 1000;
};

void check_every_case(const std::multimap<std::string, CaseFn>& table, const CheckPolicy& policy) {
  int index = 0;
  for (const auto& [op, fn] : table) {
    SCOPED_TRACE(op + " case " + std::to_string(index++));
    Graph g;
    Builder b{g};
    Output y = fn(b);
    ASSERT_EQ(y.dtype(), f64);
    // The op under test must really be in the graph being differentiated.
    bool found = false;
    for (const auto& n : g.nodes()) {
      if (n->op_name() != op) continue;
      found |= !policy.op_input_dtype;
      for (const Output& in : n->inputs) found |= in.dtype() == policy.op_input_dtype;
    }
    ASSERT_TRUE(found);
    autodiff::GradientCheckOptions options;
    options.delta = policy.delta;
    options.grad_y = Tensor::uniform(f64, y.shape(), -policy.grad_y_bound, policy.grad_y_bound, policy.seed + index);
    autodiff::GradientCheck r = autodiff::check_gradients(y, b.xs, b.values, options);
    EXPECT_LT(r.max_error, policy.tolerance) << r.to_string();
  }
}

TEST(GradientCheck, EveryOpsGradientMatchesFiniteDifferences) { check_every_case(cases(), {}); }

TEST(GradientCheck, BFloat16OpsMatchFiniteDifferencesWithinBFloat16Rounding) {
  check_every_case(bfloat16_cases(), {.delta = 0.25, .grad_y_bound = 1, .tolerance = 0.06,
                                      .op_input_dtype = bf16, .seed = 2000});
}

TEST(GradientCheck, RoundingOpsMatchFiniteDifferencesWithinBFloat16Rounding) {
  check_every_case(rounding_cases(), {.delta = 0.25, .grad_y_bound = 1, .tolerance = 0.06, .seed = 3000});
}

}  // namespace
}  // namespace horn
