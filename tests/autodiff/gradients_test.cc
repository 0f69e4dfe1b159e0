// The engine itself: second derivatives, training loops built on gradients, stops,
// unconnected inputs, and the missing-rule error.
#include <cmath>

#include "autodiff/gradient_checker.h"
#include "autodiff/gradients.h"
#include "core/op_registry.h"
#include "ops/shape_fns.h"
#include "tests/test_util.h"

namespace horn {
namespace {
using autodiff::gradients;
using testing::D;
using testing::eval;
using testing::expect_error;
using testing::expect_near;

constexpr DType f64 = DType::kFloat64;

// gradients() seeds ys with new OnesLike nodes before walking the graph: the walk must stop at
// the nodes that existed, whatever the count (a graph of exactly 64 nodes read past the end of
// a 64-bit word of the on-path bitmap; ASan builds see it).
TEST(Gradients, GraphSizesAroundAWordOfTheBitmap) {
  for (int n = 60; n <= 68; ++n) {
    Graph g;
    Output x = ops::Placeholder(g, DType::kFloat64, {2}, "x");
    Output y = x;
    while (g.num_nodes() < n) y = ops::Neg(y);
    ASSERT_EQ(g.num_nodes(), n);
    const double sign = (n - 1) % 2 ? -1 : 1;  // n - 1 negations
    expect_near(eval(gradients({ops::Sum(y)}, {x})[0], {{x, D({2}, {1, 2})}}), {2}, {sign, sign});
  }
}

TEST(Gradients, SecondDerivativeOfCubeIsSixX) {
  Graph g;
  Output x = ops::Placeholder(g, f64, {3}, "x");
  Output y = x * x * x;
  Output dy = gradients({y}, {x})[0];
  Output d2y = gradients({dy}, {x})[0];
  Session s(g);
  auto out = s.run({{x, D({3}, {-1, 0.5, 2})}}, {dy, d2y});
  expect_near(out[0], {3}, {3, 0.75, 12}, 1e-12);
  expect_near(out[1], {3}, {-6, 3, 12}, 1e-12);
}

TEST(Gradients, SecondDerivativeOfSigmoid) {
  Graph g;
  Output x = ops::Placeholder(g, f64, {3}, "x");
  Output d2y = gradients(gradients({ops::Sigmoid(x)}, {x}), {x})[0];
  std::vector<double> want;
  for (double v : {-2.0, 0.0, 1.5}) {
    const double s = 1 / (1 + std::exp(-v));
    want.push_back(s * (1 - s) * (1 - 2 * s));
  }
  expect_near(eval(d2y, {{x, D({3}, {-2, 0, 1.5})}}), {3}, want, 1e-12);
}

// Hessian-vector product of a small MLP's loss, against finite differences of its gradient.
TEST(Gradients, HessianVectorProductOfAnMlpLoss) {
  Graph g;
  Output x = ops::Const(g, Tensor::uniform(f64, {5, 4}, -1, 1, 1));
  Output labels = ops::Const(g, Tensor(Shape{5}, std::vector<int32_t>{0, 2, 1, 2, 0}));
  Output w1 = ops::Placeholder(g, f64, {4, 6}, "w1");
  Output w2 = ops::Placeholder(g, f64, {6, 3}, "w2");
  Output v1 = ops::Placeholder(g, f64, {4, 6}, "v1");
  Output v2 = ops::Placeholder(g, f64, {6, 3}, "v2");
  Output logits = ops::MatMul(ops::Tanh(ops::MatMul(x, w1)), w2);
  Output onehot = ops::OneHot(labels, 3, 1, 0, f64);
  Output loss = ops::Mean(ops::SoftmaxCrossEntropyWithLogits({.labels = onehot, .logits = logits}));
  std::vector<Output> grad = gradients({loss}, {w1, w2});
  std::vector<Output> hv = gradients({ops::Sum(grad[0] * v1) + ops::Sum(grad[1] * v2)}, {w1, w2});

  Tensor w1v = Tensor::uniform(f64, {4, 6}, -1, 1, 2), w2v = Tensor::uniform(f64, {6, 3}, -1, 1, 3);
  Tensor v1v = Tensor::uniform(f64, {4, 6}, -1, 1, 4), v2v = Tensor::uniform(f64, {6, 3}, -1, 1, 5);
  Session s(g);
  auto symbolic = s.run({{w1, w1v}, {w2, w2v}, {v1, v1v}, {v2, v2v}}, hv);
  const double eps = 1e-5;
  auto shifted = [&](const Tensor& w, const Tensor& v, double e) {
    Tensor out = w.copy();
    for (int64_t i = 0; i < out.size(); ++i) out.data<double>()[i] += e * v.data<double>()[i];
    return out;
  };
  auto plus = s.run({{w1, shifted(w1v, v1v, eps)}, {w2, shifted(w2v, v2v, eps)}}, grad);
  auto minus = s.run({{w1, shifted(w1v, v1v, -eps)}, {w2, shifted(w2v, v2v, -eps)}}, grad);
  for (int k = 0; k < 2; ++k)
    for (int64_t i = 0; i < symbolic[k].size(); ++i) {
      const double numeric = (plus[k].value_as_double(i) - minus[k].value_as_double(i)) / (2 * eps);
      EXPECT_NEAR(symbolic[k].value_as_double(i), numeric, 1e-7) << "w" << k + 1 << " element " << i;
    }
}

TEST(Gradients, LinearRegressionConvergesToTheKnownSolution) {
  Graph g;
  Tensor xv = Tensor::uniform(f64, {200, 3}, -1, 1, 7);
  const std::vector<double> w_true = {2.0, -3.0, 0.5};
  const double b_true = 0.7;
  std::vector<double> yv;
  for (int i = 0; i < 200; ++i) {
    double t = b_true;
    for (int j = 0; j < 3; ++j) t += xv.at<double>({i, j}) * w_true[j];
    yv.push_back(t);
  }
  Output x = ops::Const(g, xv);
  Output y = ops::Const(g, D({200, 1}, yv));
  Output w = ops::Variable(g, Tensor::zeros(f64, {3, 1}), "w");
  Output b = ops::Variable(g, Tensor::zeros(f64, {1}), "b");
  Output loss = ops::Mean(ops::Square(ops::MatMul(x, w) + b - y));
  std::vector<Output> gr = gradients({loss}, {w, b});
  Node* step_w = ops::AssignSub(w, gr[0] * 0.3).node;
  Node* step_b = ops::AssignSub(b, gr[1] * 0.3).node;
  Session s(g);
  s.initialize_variables();
  for (int i = 0; i < 400; ++i) s.run({}, {}, {step_w, step_b});
  expect_near(s.variable_value(w.node), {3, 1}, w_true, 1e-6);
  expect_near(s.variable_value(b.node), {1}, {b_true}, 1e-6);
}

// With soft labels p = sigmoid(X w_true), the cross-entropy's unique minimum is w_true.
TEST(Gradients, LogisticRegressionConvergesToTheKnownSolution) {
  Graph g;
  Tensor xv = Tensor::uniform(f64, {300, 2}, -2, 2, 8);
  const std::vector<double> w_true = {1.5, -1.0};
  std::vector<double> pv;
  for (int i = 0; i < 300; ++i)
    pv.push_back(1 / (1 + std::exp(-(xv.at<double>({i, 0}) * w_true[0] + xv.at<double>({i, 1}) * w_true[1]))));
  Output x = ops::Const(g, xv);
  Output p = ops::Const(g, D({300, 1}, pv));
  Output w = ops::Variable(g, Tensor::zeros(f64, {2, 1}), "w");
  Output s_ = ops::Sigmoid(ops::MatMul(x, w));
  Output loss = ops::Mean(-(p * ops::Log(s_) + (1.0 - p) * ops::Log(1.0 - s_)));
  Node* step = ops::AssignSub(w, gradients({loss}, {w})[0] * 2.0).node;
  Session s(g);
  s.initialize_variables();
  for (int i = 0; i < 1500; ++i) s.run({}, {}, {step});
  expect_near(s.variable_value(w.node), {2, 1}, w_true, 1e-4);
}

TEST(Gradients, SoftmaxCrossEntropyGradientIsFiniteForHugeLogits) {
  Graph g;
  Output logits = ops::Placeholder(g, DType::kFloat32, {2, 3}, "logits");
  Output labels = ops::Const(g, Tensor(Shape{2, 3}, std::vector<float>{0, 1, 0, 0, 0, 1}));
  Output loss = ops::Sum(ops::SoftmaxCrossEntropyWithLogits({.labels = labels, .logits = logits}));
  Output grad = gradients({loss}, {logits})[0];
  Tensor lv(Shape{2, 3}, std::vector<float>{1e4f, -1e4f, 0, -1e4f, 0, 1e4f});
  expect_near(eval(grad, {{logits, lv}}), {2, 3}, {1, -1, 0, 0, 0, 0});
  expect_near(eval(loss, {{logits, lv}}), {}, {2e4});
}

TEST(Gradients, StopGradientAndUnconnectedInputs) {
  Graph g;
  Output x = ops::Placeholder(g, f64, {2}, "x");
  Output z = ops::Placeholder(g, f64, {2}, "z");
  Output y = x * ops::StopGradient(x);
  std::vector<Output> none = gradients({y}, {x, z});
  EXPECT_FALSE(none[1].valid()) << "z does not reach y: no gradient by default";
  expect_near(eval(none[0], {{x, D({2}, {3, -4})}}), {2}, {3, -4});
  Output zero = gradients({y}, {z}, {}, {autodiff::Unconnected::kZero})[0];
  expect_near(eval(zero, {{z, D({2}, {1, 1})}}), {2}, {0, 0});
  // Through a non-differentiable op (ArgMax) and an integer cast: no gradient.
  Output through_int = ops::Cast(ops::Cast(x, DType::kInt32), f64);
  EXPECT_FALSE(gradients({through_int}, {x})[0].valid());
  EXPECT_FALSE(gradients({ops::Cast(ops::ArgMax(ops::ExpandDims(x, 0)), f64)}, {x})[0].valid());
}

TEST(Gradients, CastBetweenFloatTypesCastsTheGradientBack) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2}, "x");
  Output gx = gradients({ops::Square(ops::Cast(x, f64))}, {x})[0];
  EXPECT_EQ(gx.dtype(), DType::kFloat32);
  expect_near(eval(gx, {{x, Tensor(Shape{2}, std::vector<float>{1.5, -2})}}), {2}, {3, -4});
}

TEST(Gradients, PathsAreSummedAndGradYsWeight) {
  Graph g;
  Output x = ops::Placeholder(g, f64, {2}, "x");
  Output y1 = x * 3.0, y2 = ops::Square(x);
  Output gy1 = ops::Const(g, D({2}, {1, 2})), gy2 = ops::Const(g, D({2}, {10, 0}));
  Output gx = gradients({y1, y2}, {x}, {gy1, gy2})[0];
  // d/dx = 3*gy1 + 2x*gy2
  expect_near(eval(gx, {{x, D({2}, {1, 5})}}), {2}, {3 + 20, 6});
  EXPECT_EQ(gx.node->name.rfind("gradients/", 0), 0u) << gx.node->name;
}

// An op declared without a gradient rule, to test the error on a path that needs one.
HORN_REGISTER_OP({
    .name = "TestOpWithoutGradient", .num_inputs = 1,
    .shape_fn = shape_fns::unary_float,
    .kernel = [](KernelContext& k) { k.output() = k.input(0).copy(); },
    .kernel_sets_outputs = true,
});

TEST(Gradients, MissingRuleNamesOpNodeAndPath) {
  Graph g;
  Output x = ops::Placeholder(g, f64, {2}, "x");
  Output h = ops::Exp(x, "hidden");
  Output odd = g.add_node("TestOpWithoutGradient", {h}, {}, "odd")->output();
  Output loss = ops::Sum(odd, {}, false, "loss");
  expect_error([&] { gradients({loss}, {x}); },
               {"TestOpWithoutGradient", "'odd'", "loss <- odd <- hidden <- x"});
  // Not on the path: no error.
  Output other = ops::Placeholder(g, f64, {2}, "other");
  EXPECT_NO_THROW(gradients({ops::Sum(odd * other)}, {other}));
}

TEST(Gradients, RefusesUnsetOrOutOfRangeOutputsByPosition) {
  Graph g;
  Output x = ops::Placeholder(g, f64, {3}, "x");
  Output y = ops::Sum(x * x, {}, false, "y");
  expect_error([&] { gradients({Output{}}, {x}); }, {"ys[0]", "not set"});
  expect_error([&] { gradients({y, Output{}}, {x}); }, {"ys[1]", "not set"});
  expect_error([&] { gradients({y}, {x, Output{}}); }, {"xs[1]", "not set"});
  expect_error([&] { gradients({y}, {x}, {Output{}}); }, {"grad_ys[0]", "not set"});
  expect_error([&] { gradients({Output{y.node, 1}}, {x}); }, {"ys[0]", "output 1", "'y'", "1 output"});
  expect_error([&] { gradients({y}, {Output{x.node, -1}}); }, {"xs[0]", "output -1", "'x'"});
  Graph other;
  Output z = ops::Placeholder(other, f64, {3}, "z");
  expect_error([&] { gradients({y}, {z}); }, {"xs[0]", "'z'", "not in the ys' graph"});
}

}  // namespace
}  // namespace horn
