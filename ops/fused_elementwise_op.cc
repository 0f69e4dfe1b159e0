// FusedElementwise and FusedAssign, made by the compiler's fusion pass: a chain of
// elementwise ops run as one loop over memory by the program interpreter of
// ops/fused_program.h. FusedAssign's programs also store into variables (Assign, AssignAdd,
// AssignSub instructions), so that an optimizer updates a weight and all its slots in one
// pass; its output is the last instruction's result (the variable's new value when that
// instruction is a store).
#include "ops/fused_program.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::kernels {

Program decode_program(const Node& node) {
  Program p;
  const std::vector<int64_t>& code = node.attrs.get<std::vector<int64_t>>("program");
  for (size_t at = 0; at < code.size();) {
    HORN_ASSERT(at + 1 < code.size(), "'", node.name, "': truncated fused program");
    p.ops.push_back(&OpRegistry::global().at(static_cast<int>(code[at])));
    const int64_t nargs = code[at + 1];
    p.args.emplace_back(code.begin() + at + 2, code.begin() + at + 2 + nargs);
    at += 2 + nargs;
  }
  return p;
}

Store store_kind(const OpDef& op) {
  if (op.name == "Assign") return Store::kAssign;
  if (op.name == "AssignAdd") return Store::kAdd;
  if (op.name == "AssignSub") return Store::kSub;
  return Store::kNone;
}

}  // namespace horn::kernels

namespace horn::ops {
namespace {

using kernels::ProgramRunner;

void run_program(kernels::Program program, const std::vector<Tensor>& inputs, Tensor& out) {
  kernels::dispatch_float(out.dtype(), [&](auto v) {
    const ProgramRunner<decltype(v)> runner(std::move(program), inputs, out);
    parallel_blocks(out.size(), kElementwiseBlock, [&](int64_t s, int64_t e) { runner.run(s, e); });
  });
}

void fused_shape(ShapeContext& c) {
  const Shape& shape = c.attrs().get<Shape>("shape");
  const DType dtype = c.attrs().get<DType>("dtype");
  shape_fns::require_broadcast_to(c, shape, dtype);
  c.set_output(dtype, shape);
}

HORN_REGISTER_OP({
    .name = "FusedElementwise", .num_inputs = -1, .traits = kElementwise | kBroadcasting,
    .shape_fn = fused_shape,
    .kernel = [](KernelContext& k) { run_program(kernels::decode_program(k.node), k.inputs, k.output()); },
    .differentiable = false,  // made by the compiler after differentiation
});

// Attribute "stores": the inputs that are variables the program writes (for scheduling).
HORN_REGISTER_OP({
    .name = "FusedAssign", .num_inputs = -1, .traits = kStateful | kWritesVariable,
    .shape_fn = fused_shape,
    .kernel = [](KernelContext& k) {
      kernels::Program p = kernels::decode_program(k.node);
      if (kernels::store_kind(*p.ops.back()) != kernels::Store::kNone) {
        k.output() = k.inputs[p.args.back()[0]];  // the stored variable's new value
      } else {
        k.output() = Tensor(k.node.output_dtypes[0], k.output_shapes[0]);
      }
      run_program(std::move(p), k.inputs, k.output());
    },
    .differentiable = false,
    .kernel_sets_outputs = true,
});

}  // namespace
}  // namespace horn::ops
