// Unary and binary elementwise ops against closed-form values.
#include <cmath>
#include <limits>

#include "autodiff/gradients.h"
#include "core/random.h"
#include "tests/test_util.h"

namespace horn {
namespace {
using testing::D;
using testing::eval;
using testing::expect_error;
using testing::expect_near;
using testing::F;

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

struct UnaryCase {
  const char* name;
  Output (*build)(Output, ops::Name);
  double (*reference)(double);
};

TEST(UnaryOps, MatchClosedFormsInFloat32AndFloat64) {
  const std::vector<UnaryCase> cases = {
      {"Neg", ops::Neg, [](double x) { return -x; }},
      {"Exp", ops::Exp, [](double x) { return std::exp(x); }},
      {"Log", ops::Log, [](double x) { return std::log(x); }},
      {"Sqrt", ops::Sqrt, [](double x) { return std::sqrt(x); }},
      {"Square", ops::Square, [](double x) { return x * x; }},
      {"Abs", ops::Abs, [](double x) { return std::abs(x); }},
      {"Sign", ops::Sign, [](double x) { return double((x > 0) - (x < 0)); }},
      {"Sigmoid", ops::Sigmoid, sigmoid},
      {"Tanh", ops::Tanh, [](double x) { return std::tanh(x); }},
      {"Relu", ops::Relu, [](double x) { return std::max(x, 0.0); }},
      {"Softplus", ops::Softplus, [](double x) { return std::log1p(std::exp(x)); }},
      {"Softsign", ops::Softsign, [](double x) { return x / (1 + std::abs(x)); }},
      {"HardSigmoid", ops::HardSigmoid, [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }},
  };
  const std::vector<double> positive = {0.01, 0.5, 1, 2.5, 7};
  const std::vector<double> mixed = {-7, -2.6, -0.5, 0, 0.3, 1, 2.4, 6};
  for (const auto& c : cases) {
    const bool needs_positive = std::string(c.name) == "Log" || std::string(c.name) == "Sqrt";
    const std::vector<double>& in = needs_positive ? positive : mixed;
    std::vector<double> want;
    for (double x : in) want.push_back(c.reference(x));
    for (DType t : {DType::kFloat32, DType::kFloat64}) {
      Graph g;
      Output x = ops::Const(g, D({static_cast<int64_t>(in.size())}, in).cast(t));
      Output y = c.build(x, {});
      EXPECT_EQ(y.node->op_name(), c.name);
      SCOPED_TRACE(std::string(c.name) + " " + dtype_name(t));
      expect_near(eval(y), {static_cast<int64_t>(in.size())}, want, t == DType::kFloat32 ? 2e-6 : 1e-12);
    }
  }
}

TEST(UnaryOps, StableForLargeMagnitudes) {
  Graph g;
  Output x = ops::Const(g, F({4}, {-1e4f, -100, 100, 1e4f}));
  expect_near(eval(ops::Sigmoid(x)), {4}, {0, 0, 1, 1});
  expect_near(eval(ops::Softplus(x)), {4}, {0, 3.720076e-44, 100, 1e4});
  expect_near(eval(ops::Tanh(x)), {4}, {-1, -1, 1, 1});
  expect_near(eval(ops::Softsign(x)), {4}, {-1e4 / 10001, -100.0 / 101, 100.0 / 101, 1e4 / 10001});
}

TEST(UnaryOps, EmptyAndScalarInputs) {
  Graph g;
  Output e = ops::Const(g, Tensor::zeros(DType::kFloat32, {0, 3}));
  EXPECT_EQ(eval(ops::Exp(e)).shape(), (Shape{0, 3}));
  expect_near(eval(ops::Exp(ops::Scalar(g, 1.0))), {}, {std::exp(1.0)});
}

TEST(BinaryOps, ArithmeticWithBroadcasting) {
  Graph g;
  Output a = ops::Const(g, F({2, 3}, {1, 2, 3, 4, 5, 6}));
  Output row = ops::Const(g, F({3}, {10, 20, 30}));
  Output col = ops::Const(g, F({2, 1}, {100, 200}));
  expect_near(eval(a + row), {2, 3}, {11, 22, 33, 14, 25, 36});
  expect_near(eval(a - col), {2, 3}, {-99, -98, -97, -196, -195, -194});
  expect_near(eval(row * col), {2, 3}, {1000, 2000, 3000, 2000, 4000, 6000});
  expect_near(eval(a / 2.0), {2, 3}, {0.5, 1, 1.5, 2, 2.5, 3});
  expect_near(eval(1.0 - a), {2, 3}, {0, -1, -2, -3, -4, -5});
  expect_near(eval(ops::Pow(a, ops::Scalar(g, 2))), {2, 3}, {1, 4, 9, 16, 25, 36});
  expect_near(eval(ops::Maximum(a, ops::Scalar(g, 3.5))), {2, 3}, {3.5, 3.5, 3.5, 4, 5, 6});
  expect_near(eval(ops::Minimum(a, row)), {2, 3}, {1, 2, 3, 4, 5, 6});
  // [3,1,2] with [2] and [1,4,1]: rank and size-1 broadcasting together.
  Output p = ops::Const(g, Tensor::arange(DType::kFloat32, 6).reshaped({3, 1, 2}));
  Output q = ops::Const(g, F({1, 4, 1}, {0, 10, 20, 30}));
  Tensor r = eval(p + q);
  ASSERT_EQ(r.shape(), (Shape{3, 4, 2}));
  EXPECT_EQ((r.at<float>({2, 3, 1})), 5 + 30);
  EXPECT_EQ((r.at<float>({1, 2, 0})), 2 + 20);
}

TEST(BinaryOps, SizeZeroAndSizeOneDimensions) {
  Graph g;
  Output a = ops::Const(g, Tensor::zeros(DType::kFloat32, {0, 3}));
  Output b = ops::Const(g, F({1, 3}, {1, 2, 3}));
  EXPECT_EQ(eval(a + b).shape(), (Shape{0, 3}));
  Output c = ops::Const(g, F({1, 1}, {2}));
  expect_near(eval(b * c), {1, 3}, {2, 4, 6});
}

TEST(BinaryOps, ComparisonsAndSelect) {
  Graph g;
  Output a = ops::Const(g, F({4}, {1, 2, 3, 4}));
  Output b = ops::Const(g, F({4}, {4, 2, 2, 4}));
  expect_near(eval(ops::Cast(ops::Equal(a, b), DType::kFloat32)), {4}, {0, 1, 0, 1});
  expect_near(eval(ops::Cast(ops::Greater(a, b), DType::kFloat32)), {4}, {0, 0, 1, 0});
  expect_near(eval(ops::Cast(ops::LessEqual(a, b), DType::kFloat32)), {4}, {1, 1, 0, 1});
  expect_near(eval(ops::Cast(ops::GreaterEqual(a, b), DType::kFloat32)), {4}, {0, 1, 1, 1});
  expect_near(eval(ops::Cast(ops::Less(a, b), DType::kFloat32)), {4}, {1, 0, 0, 0});
  expect_near(eval(ops::Select(ops::Greater(a, b), a, b)), {4}, {4, 2, 3, 4});
  Output labels = ops::Const(g, Tensor(Shape{3}, std::vector<int32_t>{1, 0, 2}));
  Output pred = ops::Const(g, Tensor(Shape{3}, std::vector<int32_t>{1, 1, 2}));
  expect_near(eval(ops::Cast(ops::Equal(labels, pred), DType::kFloat32)), {3}, {1, 0, 1});
  expect_error([&] { ops::Select(a, a, b); }, {"Select", "bool"});
  expect_error([&] { ops::Equal(a, labels); }, {"Equal", "dtypes"});
}

TEST(BinaryOps, AddNAndGradientHelpers) {
  Graph g;
  Output a = ops::Const(g, F({2}, {1, 2}));
  Output b = ops::Const(g, F({2}, {10, 20}));
  expect_near(eval(ops::AddN({a, b, a})), {2}, {12, 24});
  Output y = ops::Const(g, F({2}, {0.25, 0.5}));
  expect_near(eval(ops::SigmoidGrad(y, b)), {2}, {10 * 0.25 * 0.75, 20 * 0.25});
  expect_near(eval(ops::TanhGrad(y, b)), {2}, {10 * (1 - 0.0625), 20 * 0.75});
  Output x = ops::Const(g, F({2}, {-1, 3}));
  expect_near(eval(ops::ReluGrad(b, x)), {2}, {0, 20});
  expect_error([&] { ops::AddN({a, ops::Const(g, F({3}, {1, 2, 3}))}); }, {"AddN", "[3]", "[2]"});
}

TEST(Composites, ClipEluSeluDropout) {
  Graph g;
  Output x = ops::Const(g, F({4}, {-2, -0.5, 0.5, 3}));
  expect_near(eval(ops::Clip(x, -1, 1)), {4}, {-1, -0.5, 0.5, 1});
  expect_near(eval(ops::Elu(x)), {4}, {std::expm1(-2.0), std::expm1(-0.5), 0.5, 3});
  const double a = 1.6732632423543772, s = 1.0507009873554805;
  expect_near(eval(ops::Selu(x)), {4}, {s * a * std::expm1(-2.0), s * a * std::expm1(-0.5), s * 0.5, s * 3});
  Output ones = ops::Const(g, Tensor::ones(DType::kFloat32, {10000}));
  Tensor d = eval(ops::Dropout(ones, 0.25, 5));
  int kept = 0;
  for (float v : d.flat<float>()) {
    EXPECT_TRUE(v == 0.0f || std::abs(v - 1 / 0.75f) < 1e-6);
    kept += v != 0;
  }
  EXPECT_NEAR(kept / 10000.0, 0.75, 0.02);
  EXPECT_TRUE(eval(ops::Dropout(ones, 0.25, 5)).bitwise_equal(d)) << "seeded";
  expect_error([&] { ops::Dropout(ones, 1.0, 1); }, {"rate"});
}

// Dropout is one op whose mask is element i of the stream (seed, run index); its gradient
// regenerates the same mask in the same run.
TEST(Dropout, MaskIsTheSeededStreamAndTheGradientReusesIt) {
  Graph g;
  const int64_t n = 1000;
  Output x = ops::Placeholder(g, DType::kFloat64, {n});
  const Tensor wv = Tensor::uniform(DType::kFloat64, {n}, -1, 1, 3);
  Output w = ops::Const(g, wv);
  Output y = ops::Dropout(x, 0.3, 11);
  Output dx = autodiff::gradients({ops::Sum(y * w)}, {x})[0];
  Session s(g);
  s.set_run_counter(42);
  const Tensor xv = Tensor::uniform(DType::kFloat64, {n}, 1, 2, 4);
  const std::vector<Tensor> r = s.run({{x, xv}}, {y, dx});
  const double scale = 1 / (1 - 0.3);
  for (int64_t i = 0; i < n; ++i) {
    const bool kept = random::uniform01(11, 42, i) >= 0.3;
    EXPECT_EQ(r[0].data<double>()[i], kept ? xv.data<double>()[i] * scale : 0.0) << i;
    EXPECT_EQ(r[1].data<double>()[i], kept ? wv.data<double>()[i] * scale : 0.0) << i;
  }
  Tensor again = s.run({{x, xv}}, y);
  EXPECT_FALSE(again.bitwise_equal(r[0])) << "the next run draws a new mask";
}

}  // namespace
}  // namespace horn
