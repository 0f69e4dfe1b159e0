// FusedElementwise and FusedAssign, made by the compiler's fusion pass: a chain of
// elementwise ops run as one loop over memory by the program interpreter of
// ops/program_runner.h. FusedAssign's programs also store into variables (Assign, AssignAdd,
// AssignSub instructions), so that an optimizer updates a weight and all its slots in one
// pass; its output is the last instruction's result (the variable's new value when that
// instruction is a store).
//
// Attributes: "program" (a FusedProgram over the inputs), "shape" and "dtype" (the element
// space), "ops" (the fused ops' names, for reports).
#include "ops/bfloat16_copies.h"
#include "ops/ops.h"
#include "ops/program_runner.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

void run_program(const FusedProgram& program, std::vector<Tensor>& inputs, Tensor& out, bool writes_out,
                 bfloat16* copy = nullptr, const KeptBFloat16Copies* kept = nullptr) {
  kernels::dispatch_float(out.dtype(), [&](auto v) {
    using T = decltype(v);
    kernels::ProgramRunner<T> runner(program, inputs, out.shape(), writes_out ? out.data<T>() : nullptr);
    if (copy) runner.set_bfloat16_copy(copy);
    if (kept) kept->attach(runner, 0);
    parallel_blocks(out.size(), kElementwiseBlock, [&](int64_t s, int64_t e) { runner.run(s, e); });
  });
}

void fused_shape(ShapeContext& c) {
  const Shape& shape = c.attrs().get<Shape>("shape");
  const DType dtype = c.attrs().get<DType>("dtype");
  shape_fns::validate_program(c, shape, dtype);
  c.set_output(dtype, shape);
  shape_fns::add_bfloat16_copy(c, shape, dtype);
}

HORN_REGISTER_OP({
    .name = "FusedElementwise", .num_inputs = -1,
    .num_outputs = -1,
    .traits = kElementwise | kBroadcasting | kInPlace | kBFloat16Copy,
    .shape_fn = fused_shape,
    .kernel = [](KernelContext& k) {
      bfloat16* copy = k.outputs.size() > 1 ? k.output(1).data<bfloat16>() : nullptr;
      run_program(program_of(k.node), k.inputs, k.output(), true, copy);
    },
    .differentiable = false,  // made by the compiler after differentiation
    .role = OpRole::kFusedLoop,
});

std::vector<int> stored_inputs(const Node& node) { return program_of(node).stored_externals(); }

HORN_REGISTER_OP({
    .name = "FusedAssign", .num_inputs = -1, .traits = kStateful | kWritesVariable | kKeepsBFloat16Copies,
    .shape_fn = fused_shape,
    .kernel = [](KernelContext& k) {
      const FusedProgram& p = program_of(k.node);
      const bool stores_last = p.ends_with_store();
      // The output is the stored variable's new value, or a tensor of its own.
      k.output() = stores_last ? k.inputs[p.instructions.back().args[0].index]
                               : Tensor(k.node.output_dtypes[0], k.output_shapes[0]);
      const KeptBFloat16Copies kept(k);
      run_program(p, k.inputs, k.output(), !stores_last, nullptr, &kept);
      kept.mark_current();
    },
    .differentiable = false,
    .kernel_sets_outputs = true,
    .role = OpRole::kFusedUpdate,
    .written_inputs = stored_inputs,
});

}  // namespace
}  // namespace horn::ops
