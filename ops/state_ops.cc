// Sources (Const, Placeholder, Variable) and in-place variable updates.
#include <cstring>

#include "core/session.h"
#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using kernels::dispatch_float;

HORN_REGISTER_OP({
    .name = "Const",
    .shape_fn = [](ShapeContext& c) {
      const Tensor& v = c.attrs().get<Tensor>("value");
      c.set_output(v.dtype(), v.shape());
    },
    .kernel = [](KernelContext& k) { k.output() = k.attrs().get<Tensor>("value"); },
    .kernel_sets_outputs = true,
    .role = OpRole::kConstant,
});

HORN_REGISTER_OP({
    .name = "Placeholder",
    .shape_fn = [](ShapeContext& c) {
      c.set_output(c.attrs().get<DType>("dtype"), c.attrs().get<Shape>("shape"));
    },
    .kernel = [](KernelContext& k) { fail("Placeholder '", k.node.name, "' was not fed"); },
    .kernel_sets_outputs = true,
    .role = OpRole::kPlaceholder,
});

HORN_REGISTER_OP({
    .name = "Variable",
    .traits = kStateful,
    .shape_fn = [](ShapeContext& c) {
      c.set_output(c.attrs().get<DType>("dtype"), c.attrs().get<Shape>("shape"));
    },
    // The output is the session's storage itself: updates are visible to later readers.
    .kernel = [](KernelContext& k) { k.output() = k.state.variable(k.node); },
    .kernel_sets_outputs = true,
    .role = OpRole::kVariable,
});

// A float32 Variable rounded to bfloat16, as Cast rounds it: the copy that the variable's
// fused optimizer update keeps (ops/bfloat16_copies.h) while it is current, else a Cast made
// now. Made by the compiler (core/compiler/bfloat16_variable_copies.cc) from a Cast of a
// variable. A view of the variable for ordering: its readers run before the variable's
// writers, which rewrite the copy.
HORN_REGISTER_OP({
    .name = "VariableAsBFloat16", .num_inputs = 1, .traits = kStateful,
    .shape_fn = [](ShapeContext& c) {
      const Node& var = *c.node.inputs[0].node;
      if (!var.op->is(OpRole::kVariable) || c.input_dtypes[0] != DType::kFloat32)
        c.error("input 0 must be a float32 Variable, got ", var.op_name(), " '", var.name, "' of dtype ",
                dtype_name(c.input_dtypes[0]));
      c.set_output(DType::kBFloat16, c.input_shapes[0]);
    },
    .kernel = [](KernelContext& k) {
      const BFloat16Copy& copy = k.state.bfloat16_copy(*k.node.inputs[0].node);
      k.output() = copy.current ? copy.values : k.input(0).cast(DType::kBFloat16);
    },
    .differentiable = false,
    .kernel_sets_outputs = true,
    .role = OpRole::kVariableAsBFloat16,
    .view_of_input = 0,
});

void variable_update_shape(ShapeContext& c) {
  if (!c.node.inputs[0].node->op->is(OpRole::kVariable))
    c.error("input 0 must be a Variable, got ", c.node.inputs[0].node->op_name(), " '",
            c.node.inputs[0].node->name, "'");
  shape_fns::require_same_dtype(c, 0, 1);
  if (!c.input_shapes[0].is_compatible_with(c.input_shapes[1]))
    c.error("variable '", c.node.inputs[0].node->name, "' has shape ", c.input_shapes[0],
            " but the value has shape ", c.input_shapes[1]);
  c.set_output(c.input_dtypes[0], c.input_shapes[0]);
}

template <VariableUpdate kind>
void update_kernel(KernelContext& k) {
  Tensor& var = k.state.variable(*k.node.inputs[0].node);
  const Tensor& value = k.input(1);
  if (var.shape() != value.shape())
    fail(k.node.op_name(), " '", k.node.name, "': variable has shape ", var.shape(),
         " but the value has shape ", value.shape());
  if constexpr (kind == VariableUpdate::kAssign) {
    if (!var.shares_storage_with(value) && var.nbytes())
      std::memcpy(var.raw_data(), value.raw_data(), var.nbytes());
  } else {
    dispatch_float(var.dtype(), [&](auto v) {
      using T = decltype(v);
      T* dst = var.data<T>();
      const T* src = value.data<T>();
      parallel_blocks(var.size(), kElementwiseBlock, [&](int64_t b, int64_t e) {
        kernels::MutArrayMap<T> d(dst + b, e - b);
        kernels::ConstArrayMap<T> s(src + b, e - b);
        if constexpr (kind == VariableUpdate::kAdd) d += s;
        else d -= s;
      });
    });
  }
  k.output() = var;
}

// Each returns the variable itself (a view of input 0), after the update.
HORN_REGISTER_OP({.name = "Assign", .num_inputs = 2, .traits = kStateful | kWritesVariable,
                  .shape_fn = variable_update_shape, .kernel = update_kernel<VariableUpdate::kAssign>,
                  .differentiable = false, .kernel_sets_outputs = true, .view_of_input = 0,
                  .variable_update = VariableUpdate::kAssign});
HORN_REGISTER_OP({.name = "AssignAdd", .num_inputs = 2, .traits = kStateful | kWritesVariable,
                  .shape_fn = [](ShapeContext& c) { shape_fns::require_float(c, 0); variable_update_shape(c); },
                  .kernel = update_kernel<VariableUpdate::kAdd>, .differentiable = false,
                  .kernel_sets_outputs = true, .view_of_input = 0, .variable_update = VariableUpdate::kAdd});
HORN_REGISTER_OP({.name = "AssignSub", .num_inputs = 2, .traits = kStateful | kWritesVariable,
                  .shape_fn = [](ShapeContext& c) { shape_fns::require_float(c, 0); variable_update_shape(c); },
                  .kernel = update_kernel<VariableUpdate::kSub>, .differentiable = false,
                  .kernel_sets_outputs = true, .view_of_input = 0, .variable_update = VariableUpdate::kSub});

}  // namespace

Output Const(Graph& g, const Tensor& value, Name name) {
  if (!value.defined()) fail("Const: the value is an empty Tensor");
  return g.add_node("Const", {}, {{"value", value}}, name.empty() ? "Const" : name)->output();
}

Output Scalar(Graph& g, double value, DType dtype, Name name) {
  return Const(g, Tensor::fill(dtype, Shape{}, value), name);
}

Output Placeholder(Graph& g, DType dtype, const Shape& shape, Name name) {
  return g.add_node("Placeholder", {}, {{"dtype", dtype}, {"shape", shape}},
                    name.empty() ? "Placeholder" : name)->output();
}

Output Variable(Graph& g, const Tensor& initial_value, Name name, bool trainable) {
  if (!initial_value.defined()) fail("Variable: the initial value is an empty Tensor");
  AttrMap attrs{{"dtype", initial_value.dtype()}, {"shape", initial_value.shape()}, {"initial_value", initial_value}};
  if (!trainable) attrs.set("trainable", false);  // absent: trainable, TensorFlow's default
  return g.add_node("Variable", {}, std::move(attrs), name.empty() ? "Variable" : name)->output();
}

Output Assign(Output var, Output value, Name name) {
  return var.graph().add_node("Assign", {var, value}, {}, name)->output();
}
Output AssignAdd(Output var, Output delta, Name name) {
  return var.graph().add_node("AssignAdd", {var, delta}, {}, name)->output();
}
Output AssignSub(Output var, Output delta, Name name) {
  return var.graph().add_node("AssignSub", {var, delta}, {}, name)->output();
}

}  // namespace horn::ops
