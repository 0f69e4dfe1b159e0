// Binary elementwise ops with NumPy broadcasting, comparisons, Select and AddN. The
// autodiff engine reduces broadcast gradients back to each input's shape, so the rules
// below are written for same-shaped operands.
#include <cmath>

#include "core/simplification.h"
#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

template <typename F>
std::function<void(KernelContext&)> float_binary_kernel(F f) {
  return [f](KernelContext& k) {
    kernels::dispatch_float(k.input(0).dtype(), [&](auto v) {
      using T = decltype(v);
      kernels::broadcast_binary<T, T>(k.input(0), k.input(1), k.output(), f);
    });
  };
}

template <typename F>
std::function<void(KernelContext&)> compare_kernel(F f) {
  return [f](KernelContext& k) {
    visit_dtype(k.input(0).dtype(), [&](auto v) {
      using T = decltype(v);
      kernels::broadcast_binary<T, bool>(k.input(0), k.input(1), k.output(), f);
    });
  };
}

Output zeros_like(Output x) { return ZerosLike(x); }

// x op e == x for the identity element e on the right (and on the left when `either_side`),
// unless broadcasting against e grew x.
Output drop_identity(const Node& n, double e, bool either_side) {
  if (is_filled_constant(n.inputs[1], e))
    if (Output x = if_same_shape(n.inputs[0], n); x.valid()) return x;
  if (either_side && is_filled_constant(n.inputs[0], e)) return if_same_shape(n.inputs[1], n);
  return {};
}

HORN_REGISTER_OP({
    .name = "Add", .num_inputs = 2, .traits = kElementwise | kBroadcasting,
    .shape_fn = shape_fns::broadcast_binary_float,
    .kernel = float_binary_kernel([](auto a, auto b) { return a + b; }),
    .gradient = [](Node&, const std::vector<Output>& g) { return std::vector<Output>{g[0], g[0]}; },
    .elementwise = {HORN_SCALAR_BINARY_CHUNK(float, a + b), HORN_SCALAR_BINARY_CHUNK(double, a + b)},
    .simplify = [](const Node& n) { return drop_identity(n, 0, true); },
});
HORN_REGISTER_OP({
    .name = "Sub", .num_inputs = 2, .traits = kElementwise | kBroadcasting,
    .shape_fn = shape_fns::broadcast_binary_float,
    .kernel = float_binary_kernel([](auto a, auto b) { return a - b; }),
    .gradient = [](Node&, const std::vector<Output>& g) { return std::vector<Output>{g[0], Neg(g[0])}; },
    .elementwise = {HORN_SCALAR_BINARY_CHUNK(float, a - b), HORN_SCALAR_BINARY_CHUNK(double, a - b)},
    .simplify = [](const Node& n) { return drop_identity(n, 0, false); },
});
HORN_REGISTER_OP({
    .name = "Mul", .num_inputs = 2, .traits = kElementwise | kBroadcasting,
    .shape_fn = shape_fns::broadcast_binary_float,
    .kernel = float_binary_kernel([](auto a, auto b) { return a * b; }),
    .gradient = [](Node& n, const std::vector<Output>& g) {
      return std::vector<Output>{g[0] * n.inputs[1], g[0] * n.inputs[0]};
    },
    .elementwise = {HORN_SCALAR_BINARY_CHUNK(float, a * b), HORN_SCALAR_BINARY_CHUNK(double, a * b)},
    .simplify = [](const Node& n) { return drop_identity(n, 1, true); },
});
HORN_REGISTER_OP({
    .name = "Div", .num_inputs = 2, .traits = kElementwise | kBroadcasting,
    .shape_fn = shape_fns::broadcast_binary_float,
    .kernel = float_binary_kernel([](auto a, auto b) { return a / b; }),
    .gradient = [](Node& n, const std::vector<Output>& g) {
      Output a = n.inputs[0], b = n.inputs[1];
      return std::vector<Output>{g[0] / b, Neg(g[0]) * a / Square(b)};
    },
    .elementwise = {HORN_SCALAR_BINARY_CHUNK(float, a / b), HORN_SCALAR_BINARY_CHUNK(double, a / b)},
    .simplify = [](const Node& n) { return drop_identity(n, 1, false); },
});
HORN_REGISTER_OP({
    .name = "Pow", .num_inputs = 2, .traits = kElementwise | kBroadcasting,
    .shape_fn = shape_fns::broadcast_binary_float,
    .kernel = float_binary_kernel([](auto a, auto b) { return std::pow(a, b); }),
    .gradient = [](Node& n, const std::vector<Output>& g) {
      Output a = n.inputs[0], b = n.inputs[1], y = n.output();
      // d/db = y * log(a), taken as 0 where a <= 0 (log undefined), as TensorFlow does.
      Output safe_log = Select(Greater(a, ZerosLike(a)), Log(a), ZerosLike(a));
      return std::vector<Output>{g[0] * b * Pow(a, b - 1.0), g[0] * y * safe_log};
    },
    .elementwise = {HORN_SCALAR_BINARY_CHUNK(float, std::pow(a, b)), HORN_SCALAR_BINARY_CHUNK(double, std::pow(a, b))},
});

// Ties send the gradient to the first input, as TensorFlow does.
std::vector<Output> select_grads(Output mask, Output g) {
  Output zeros = zeros_like(g);
  return {Select(mask, g, zeros), Select(mask, zeros, g)};
}

HORN_REGISTER_OP({
    .name = "Maximum", .num_inputs = 2, .traits = kElementwise | kBroadcasting,
    .shape_fn = shape_fns::broadcast_binary_float,
    .kernel = float_binary_kernel([](auto a, auto b) { return a >= b ? a : b; }),
    .gradient = [](Node& n, const std::vector<Output>& g) {
      return select_grads(GreaterEqual(n.inputs[0], n.inputs[1]), g[0]);
    },
    .elementwise = {HORN_SCALAR_BINARY_CHUNK(float, a >= b ? a : b), HORN_SCALAR_BINARY_CHUNK(double, a >= b ? a : b)},
});
HORN_REGISTER_OP({
    .name = "Minimum", .num_inputs = 2, .traits = kElementwise | kBroadcasting,
    .shape_fn = shape_fns::broadcast_binary_float,
    .kernel = float_binary_kernel([](auto a, auto b) { return a <= b ? a : b; }),
    .gradient = [](Node& n, const std::vector<Output>& g) {
      return select_grads(LessEqual(n.inputs[0], n.inputs[1]), g[0]);
    },
    .elementwise = {HORN_SCALAR_BINARY_CHUNK(float, a <= b ? a : b), HORN_SCALAR_BINARY_CHUNK(double, a <= b ? a : b)},
});

#define HORN_COMPARE_OP(NAME, EXPR)                                                    \
  HORN_REGISTER_OP({.name = NAME, .num_inputs = 2, .traits = kElementwise | kBroadcasting, \
                    .shape_fn = shape_fns::broadcast_compare,                          \
                    .kernel = compare_kernel([](auto a, auto b) { return EXPR; }),     \
                    .differentiable = false});
HORN_COMPARE_OP("Equal", a == b)
HORN_COMPARE_OP("Greater", a > b)
HORN_COMPARE_OP("GreaterEqual", a >= b)
HORN_COMPARE_OP("Less", a < b)
HORN_COMPARE_OP("LessEqual", a <= b)
#undef HORN_COMPARE_OP

HORN_REGISTER_OP({
    .name = "Select", .num_inputs = 3, .traits = kElementwise,
    .shape_fn = [](ShapeContext& c) {
      if (c.input_dtypes[0] != DType::kBool)
        c.error("condition must be bool, got ", dtype_name(c.input_dtypes[0]));
      shape_fns::require_same_dtype(c, 1, 2);
      if (!c.input_shapes[0].is_compatible_with(c.input_shapes[1]) ||
          !c.input_shapes[1].is_compatible_with(c.input_shapes[2]))
        c.error("condition, then and else must have one shape, got ", c.input_shapes[0], ", ",
                c.input_shapes[1], " and ", c.input_shapes[2]);
      c.set_output(c.input_dtypes[1], c.input_shapes[1]);
    },
    .kernel = [](KernelContext& k) {
      visit_dtype(k.input(1).dtype(), [&](auto v) {
        using T = decltype(v);
        const bool* cond = k.input(0).data<bool>();
        const T* a = k.input(1).data<T>();
        const T* b = k.input(2).data<T>();
        T* y = k.output().data<T>();
        parallel_blocks(k.output().size(), kElementwiseBlock, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) y[i] = cond[i] ? a[i] : b[i];
        });
      });
    },
    .gradient = [](Node& n, const std::vector<Output>& g) {
      std::vector<Output> ab = select_grads(n.inputs[0], g[0]);
      return std::vector<Output>{Output{}, ab[0], ab[1]};
    },
});

HORN_REGISTER_OP({
    .name = "AddN", .num_inputs = -1, .traits = kElementwise,
    .shape_fn = [](ShapeContext& c) {
      if (c.input_shapes.empty()) c.error("needs at least one input");
      shape_fns::require_float(c, 0);
      for (size_t i = 1; i < c.input_shapes.size(); ++i) {
        shape_fns::require_same_dtype(c, 0, static_cast<int>(i));
        if (!c.input_shapes[0].is_compatible_with(c.input_shapes[i]))
          c.error("input ", i, " has shape ", c.input_shapes[i], ", input 0 has ", c.input_shapes[0]);
      }
      c.set_output(c.input_dtypes[0], c.input_shapes[0]);
    },
    .kernel = [](KernelContext& k) {
      kernels::dispatch_float(k.input(0).dtype(), [&](auto v) {
        using T = decltype(v);
        T* y = k.output().data<T>();
        parallel_blocks(k.output().size(), kElementwiseBlock, [&](int64_t s, int64_t e) {
          kernels::MutArrayMap<T> out(y + s, e - s);
          out = kernels::ConstArrayMap<T>(k.input(0).data<T>() + s, e - s);
          for (size_t i = 1; i < k.inputs.size(); ++i)
            out += kernels::ConstArrayMap<T>(k.input(i).data<T>() + s, e - s);
        });
      });
    },
    .gradient = [](Node& n, const std::vector<Output>& g) {
      return std::vector<Output>(n.inputs.size(), g[0]);
    },
});

Output binary(const char* op, Output a, Output b, Name name) {
  if (!a.valid() || !b.valid()) fail(op, ": an input is not set");
  return a.graph().add_node(op, {a, b}, {}, name)->output();
}

}  // namespace

Output scalar_like(Output like, double v) { return Scalar(like.graph(), v, like.dtype()); }

Output Add(Output a, Output b, Name name) { return binary("Add", a, b, name); }
Output Sub(Output a, Output b, Name name) { return binary("Sub", a, b, name); }
Output Mul(Output a, Output b, Name name) { return binary("Mul", a, b, name); }
Output Div(Output a, Output b, Name name) { return binary("Div", a, b, name); }
Output Pow(Output a, Output b, Name name) { return binary("Pow", a, b, name); }
Output Maximum(Output a, Output b, Name name) { return binary("Maximum", a, b, name); }
Output Minimum(Output a, Output b, Name name) { return binary("Minimum", a, b, name); }
Output Equal(Output a, Output b, Name name) { return binary("Equal", a, b, name); }
Output Greater(Output a, Output b, Name name) { return binary("Greater", a, b, name); }
Output GreaterEqual(Output a, Output b, Name name) { return binary("GreaterEqual", a, b, name); }
Output Less(Output a, Output b, Name name) { return binary("Less", a, b, name); }
Output LessEqual(Output a, Output b, Name name) { return binary("LessEqual", a, b, name); }

Output Select(Output cond, Output a, Output b, Name name) {
  return cond.graph().add_node("Select", {cond, a, b}, {}, name)->output();
}

Output AddN(const std::vector<Output>& inputs, Name name) {
  if (inputs.empty()) fail("AddN: needs at least one input");
  if (inputs.size() == 1) return inputs[0];
  return inputs[0].graph().add_node("AddN", inputs, {}, name)->output();
}

}  // namespace horn::ops

namespace horn {
using ops::scalar_like;

using namespace ops;

Output operator+(Output a, Output b) { return Add(a, b); }
Output operator-(Output a, Output b) { return Sub(a, b); }
Output operator*(Output a, Output b) { return Mul(a, b); }
Output operator/(Output a, Output b) { return Div(a, b); }
Output operator-(Output a) { return Neg(a); }
Output operator+(Output a, double b) { return Add(a, scalar_like(a, b)); }
Output operator-(Output a, double b) { return Sub(a, scalar_like(a, b)); }
Output operator*(Output a, double b) { return Mul(a, scalar_like(a, b)); }
Output operator/(Output a, double b) { return Div(a, scalar_like(a, b)); }
Output operator+(double a, Output b) { return Add(scalar_like(b, a), b); }
Output operator-(double a, Output b) { return Sub(scalar_like(b, a), b); }
Output operator*(double a, Output b) { return Mul(scalar_like(b, a), b); }
Output operator/(double a, Output b) { return Div(scalar_like(b, a), b); }

}  // namespace horn
