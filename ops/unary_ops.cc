// Elementwise unary ops on float tensors, as Eigen array expressions (vectorised), plus
// the activation-gradient helpers SigmoidGrad, TanhGrad and ReluGrad.
#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using Grads = std::vector<Output>;

#define HORN_UNARY_OP(NAME, EXPR, GRAD, ...)                                                  \
  HORN_REGISTER_OP({.name = NAME, .num_inputs = 1, .traits = kElementwise,                \
                    .shape_fn = shape_fns::unary_float,                                    \
                    .kernel = kernels::elementwise_kernel,                                 \
                    .gradient = [](Node& n, const Grads& g) -> Grads {                     \
                      [[maybe_unused]] Output x = n.inputs[0], y = n.output();             \
                      return {GRAD};                                                       \
                    },                                                                     \
                    .elementwise = {HORN_UNARY_CHUNK(float, EXPR), HORN_UNARY_CHUNK(double, EXPR)} \
                    __VA_OPT__(, __VA_ARGS__)});

HORN_UNARY_OP("Neg", -x, Neg(g[0]), .simplify = [](const Node& n) -> Output {
  const Node& inner = *n.inputs[0].node;  // -(-x) == x
  return inner.op == n.op ? inner.inputs[0] : Output{};
})
HORN_UNARY_OP("Exp", x.exp(), g[0] * y)
HORN_UNARY_OP("Log", x.log(), g[0] / x)
HORN_UNARY_OP("Sqrt", x.sqrt(), g[0] / (2.0 * y))
HORN_UNARY_OP("Square", x.square(), g[0] * (2.0 * x))
HORN_UNARY_OP("Abs", x.abs(), g[0] * Sign(x))
HORN_UNARY_OP("Sigmoid", x.logistic(), SigmoidGrad(y, g[0]))
HORN_UNARY_OP("Tanh", x.tanh(), TanhGrad(y, g[0]))
// The gradient reads the output (y > 0 exactly where x > 0), so that x has one reader and a
// producing MatMul or convolution can apply the Relu in its epilogue.
HORN_UNARY_OP("Relu", x.max(decltype(x.sum())(0)), ReluGrad(g[0], y))
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x, no loss for small.
HORN_UNARY_OP("Softplus", x.max(decltype(x.sum())(0)) + (-x.abs()).exp().log1p(), g[0] * Sigmoid(x))
HORN_UNARY_OP("Softsign", x / (x.abs() + decltype(x.sum())(1)), g[0] / Square(Abs(x) + 1.0))
HORN_UNARY_OP("HardSigmoid",
              (x * decltype(x.sum())(0.2) + decltype(x.sum())(0.5))
                  .max(decltype(x.sum())(0)).min(decltype(x.sum())(1)),
              Select(Less(Abs(x), Scalar(x.graph(), 2.5, x.dtype())), g[0] * 0.2, ZerosLike(g[0])))
#undef HORN_UNARY_OP

HORN_REGISTER_OP({
    .name = "Sign", .num_inputs = 1, .traits = kElementwise,
    .shape_fn = shape_fns::unary_float,
    .kernel = kernels::elementwise_kernel,
    .differentiable = false,  // zero almost everywhere
    .elementwise = {HORN_UNARY_CHUNK(float, x.sign()), HORN_UNARY_CHUNK(double, x.sign())},
});

HORN_REGISTER_OP({
    .name = "SigmoidGrad", .num_inputs = 2, .traits = kElementwise,
    .shape_fn = shape_fns::same_shape_binary_float,
    .kernel = kernels::elementwise_kernel,
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output y = n.inputs[0], dy = n.inputs[1];
      return {g[0] * dy * (1.0 - 2.0 * y), SigmoidGrad(y, g[0])};
    },
    .elementwise = {HORN_BINARY_CHUNK(float, b * a * (1.0f - a)), HORN_BINARY_CHUNK(double, b * a * (1.0 - a))},
});
HORN_REGISTER_OP({
    .name = "TanhGrad", .num_inputs = 2, .traits = kElementwise,
    .shape_fn = shape_fns::same_shape_binary_float,
    .kernel = kernels::elementwise_kernel,
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output y = n.inputs[0], dy = n.inputs[1];
      return {g[0] * dy * (-2.0 * y), TanhGrad(y, g[0])};
    },
    .elementwise = {HORN_BINARY_CHUNK(float, b * (1.0f - a.square())), HORN_BINARY_CHUNK(double, b * (1.0 - a.square()))},
});
HORN_REGISTER_OP({
    .name = "ReluGrad", .num_inputs = 2, .traits = kElementwise,
    .shape_fn = shape_fns::same_shape_binary_float,
    .kernel = kernels::elementwise_kernel,
    // The mask is piecewise constant in x: no gradient flows to x.
    .gradient = [](Node& n, const Grads& g) -> Grads { return {ReluGrad(g[0], n.inputs[1]), Output{}}; },
    .elementwise = {HORN_BINARY_CHUNK(float, (b > 0.0f).select(a, 0.0f)),
                    HORN_BINARY_CHUNK(double, (b > 0.0).select(a, 0.0))},
});

Output unary(const char* op, Output x, Name name) {
  if (!x.valid()) fail(op, ": the input is not set");
  return x.graph().add_node(op, {x}, {}, name)->output();
}

}  // namespace

Output Neg(Output x, Name name) { return unary("Neg", x, name); }
Output Exp(Output x, Name name) { return unary("Exp", x, name); }
Output Log(Output x, Name name) { return unary("Log", x, name); }
Output Sqrt(Output x, Name name) { return unary("Sqrt", x, name); }
Output Square(Output x, Name name) { return unary("Square", x, name); }
Output Abs(Output x, Name name) { return unary("Abs", x, name); }
Output Sign(Output x, Name name) { return unary("Sign", x, name); }
Output Sigmoid(Output x, Name name) { return unary("Sigmoid", x, name); }
Output Tanh(Output x, Name name) { return unary("Tanh", x, name); }
Output Relu(Output x, Name name) { return unary("Relu", x, name); }
Output Softplus(Output x, Name name) { return unary("Softplus", x, name); }
Output Softsign(Output x, Name name) { return unary("Softsign", x, name); }
Output HardSigmoid(Output x, Name name) { return unary("HardSigmoid", x, name); }
Output SigmoidGrad(Output y, Output dy, Name name) {
  return y.graph().add_node("SigmoidGrad", {y, dy}, {}, name)->output();
}
Output TanhGrad(Output y, Output dy, Name name) {
  return y.graph().add_node("TanhGrad", {y, dy}, {}, name)->output();
}
Output ReluGrad(Output dy, Output x, Name name) {
  return dy.graph().add_node("ReluGrad", {dy, x}, {}, name)->output();
}

Output Clip(Output x, double low, double high, Name name) {
  if (low > high) fail("Clip: low ", low, " is above high ", high);
  Graph::NameScope scope(x.graph(), name.empty() ? "Clip" : name);
  return Minimum(Maximum(x, Scalar(x.graph(), low, x.dtype())), Scalar(x.graph(), high, x.dtype()));
}

Output Elu(Output x, double alpha) {
  Graph::NameScope scope(x.graph(), "Elu");
  return Select(Greater(x, ZerosLike(x)), x, alpha * (Exp(Minimum(x, ZerosLike(x))) - 1.0));
}

Output Selu(Output x) {
  constexpr double kAlpha = 1.6732632423543772, kScale = 1.0507009873554805;
  return kScale * Elu(x, kAlpha);
}

}  // namespace horn::ops
