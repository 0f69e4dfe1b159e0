// Shape and type ops: Reshape, ExpandDims, Transpose, Cast, OneHot, Identity, StopGradient,
// ZerosLike, OnesLike, Size, ReshapeLike, and the seeded RandomUniformLike.
#include <cstring>
#include <numeric>

#include "core/bfloat16.h"
#include "core/random.h"
#include "core/session.h"
#include "core/simplification.h"
#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using Grads = std::vector<Output>;

// The shape x is reshaped to: `target` with its single -1 resolved when x's size is known.
Shape resolve_reshape(ShapeContext& c, const Shape& in, const Shape& target) {
  int unknown = -1;
  int64_t known = 1;
  for (int i = 0; i < target.rank(); ++i) {
    if (target[i] < 0) {
      if (unknown >= 0) c.error("target shape ", target, " has more than one -1");
      unknown = i;
    } else {
      known *= target[i];
    }
  }
  const int64_t n = in.num_elements();
  if (n < 0) return target;  // resolved at run time
  if (unknown < 0) {
    if (known != n) c.error("cannot reshape ", in, " (", n, " elements) to ", target);
    return target;
  }
  if (known == 0 || n % known != 0)
    c.error("cannot reshape ", in, " (", n, " elements) to ", target);
  Shape out = target;
  out.set_dim(unknown, n / known);
  return out;
}

void view_kernel(KernelContext& k) { k.output() = k.input(0).reshaped(k.output_shapes[0]); }

HORN_REGISTER_OP({
    .name = "Reshape", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) {
      c.set_output(c.input_dtypes[0], resolve_reshape(c, c.input_shapes[0], c.attrs().get<Shape>("shape")));
    },
    .kernel = view_kernel,
    .gradient = [](Node& n, const Grads& g) -> Grads { return {ReshapeLike(g[0], n.inputs[0])}; },
    .kernel_sets_outputs = true,
    .view_of_input = 0,
    .simplify = identity_when_same_shape,
});

HORN_REGISTER_OP({
    .name = "ReshapeLike", .num_inputs = 2,
    .shape_fn = [](ShapeContext& c) {
      const int64_t a = c.input_shapes[0].num_elements(), b = c.input_shapes[1].num_elements();
      if (a >= 0 && b >= 0 && a != b)
        c.error("cannot reshape ", c.input_shapes[0], " to ", c.input_shapes[1], ": sizes differ");
      c.set_output(c.input_dtypes[0], c.input_shapes[1]);
    },
    .kernel = view_kernel,
    .gradient = [](Node& n, const Grads& g) -> Grads { return {ReshapeLike(g[0], n.inputs[0]), Output{}}; },
    .kernel_sets_outputs = true,
    .view_of_input = 0,
    .simplify = identity_when_same_shape,
});

HORN_REGISTER_OP({
    .name = "ExpandDims", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) {
      const Shape& in = c.input_shapes[0];
      int64_t axis = c.attrs().get<int64_t>("axis");
      if (axis < -in.rank() - 1 || axis > in.rank())
        c.error("axis ", axis, " is out of range for rank ", in.rank());
      if (axis < 0) axis += in.rank() + 1;
      std::vector<int64_t> dims = in.dims();
      dims.insert(dims.begin() + axis, 1);
      c.set_output(c.input_dtypes[0], Shape(dims));
    },
    .kernel = view_kernel,
    .gradient = [](Node& n, const Grads& g) -> Grads { return {ReshapeLike(g[0], n.inputs[0])}; },
    .kernel_sets_outputs = true,
    .view_of_input = 0,
    .simplify = identity_when_same_shape,
});

std::vector<int64_t> node_perm(const AttrMap& attrs, int rank) {
  std::vector<int64_t> perm = attrs.get<std::vector<int64_t>>("perm");
  if (perm.empty())
    for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
  return perm;
}

// transpose(transpose(x)) == x when the two permutations cancel.
Output transpose_of_transpose(const Node& n) {
  const Node& inner = *n.inputs[0].node;
  if (inner.op != n.op) return {};
  const int rank = inner.inputs[0].shape().rank();
  const std::vector<int64_t> outer = node_perm(n.attrs, rank), first = node_perm(inner.attrs, rank);
  for (size_t i = 0; i < outer.size(); ++i)
    if (first[outer[i]] != static_cast<int64_t>(i)) return {};
  return inner.inputs[0];
}

HORN_REGISTER_OP({
    .name = "Transpose", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) {
      const Shape& in = c.input_shapes[0];
      const std::vector<int64_t> perm = node_perm(c.attrs(), in.rank());
      std::vector<int64_t> sorted = perm;
      std::sort(sorted.begin(), sorted.end());
      std::vector<int64_t> iota(in.rank());
      std::iota(iota.begin(), iota.end(), 0);
      if (sorted != iota) c.error("perm ", Shape(perm), " is not a permutation of the ", in.rank(), " axes of ", in);
      std::vector<int64_t> dims;
      for (int64_t p : perm) dims.push_back(in.dim(static_cast<int>(p)));
      c.set_output(c.input_dtypes[0], Shape(dims));
    },
    .kernel = [](KernelContext& k) {
      const Tensor& x = k.input(0);
      const std::vector<int64_t> perm = node_perm(k.attrs(), x.rank());
      const int rank = x.rank();
      std::vector<int64_t> in_strides(rank, 1);
      for (int d = rank - 2; d >= 0; --d) in_strides[d] = in_strides[d + 1] * x.dim(d + 1);
      const Shape& os = k.output().shape();
      visit_dtype(x.dtype(), [&](auto v) {
        using T = decltype(v);
        const T* src = x.data<T>();
        T* dst = k.output().data<T>();
        parallel_blocks(x.size(), kElementwiseBlock, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) {
            int64_t rem = i, offset = 0;
            for (int d = rank - 1; d >= 0; --d) {
              offset += (rem % os.dim(d)) * in_strides[perm[d]];
              rem /= os.dim(d);
            }
            dst[i] = src[offset];
          }
        });
      });
    },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      const std::vector<int64_t> perm = node_perm(n.attrs, n.inputs[0].shape().rank());
      std::vector<int64_t> inverse(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
      return {Transpose(g[0], inverse)};
    },
    .simplify = transpose_of_transpose,
});

HORN_REGISTER_OP({
    .name = "Cast", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) { c.set_output(c.attrs().get<DType>("dtype"), c.input_shapes[0]); },
    // Into the planned output (a same-dtype cast, which the compiler removes, copies).
    .kernel = [](KernelContext& k) { k.input(0).cast_into(k.output()); },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      // The gradient of a cast is the cast back (bfloat16 included: it rounds g[0]).
      if (!is_any_float(n.inputs[0].dtype()) || !is_any_float(n.output().dtype())) return {Output{}};
      // A bfloat16 gradient that is itself a cast of a value of x's dtype (the bfloat16
      // MatMul's gradients under mixed_bfloat16): casting it back is the same rounding as one
      // RoundToBFloat16, which the compiler fuses into the GEMM epilogue and the optimizer
      // update that read it, instead of two passes over memory.
      const Node& from = *g[0].node;
      if (g[0].dtype() == DType::kBFloat16 && from.op == n.op && from.inputs[0].dtype() == n.inputs[0].dtype())
        return {RoundToBFloat16(from.inputs[0])};
      return {Cast(g[0], n.inputs[0].dtype())};
    },
    .role = OpRole::kCast,
    .simplify = identity_when_same_shape,
});

// Cast(Cast(x, bfloat16), float32), as one elementwise op (float64: through float, as the
// casts go), so it fuses with its neighbours.
HORN_REGISTER_OP({
    .name = "RoundToBFloat16", .num_inputs = 1, .traits = kElementwise,
    .shape_fn = shape_fns::unary_float,
    .kernel = kernels::elementwise_kernel,
    // As the gradient of the two casts: the incoming gradient rounded the same way.
    .gradient = [](Node&, const Grads& g) -> Grads { return {RoundToBFloat16(g[0])}; },
    .elementwise = {[](const float* const* in, float* out, int64_t n) {
                      for (int64_t i = 0; i < n; ++i) out[i] = round_to_bfloat16(in[0][i]);
                    },
                    [](const double* const* in, double* out, int64_t n) {
                      for (int64_t i = 0; i < n; ++i) out[i] = round_to_bfloat16(static_cast<float>(in[0][i]));
                    }},
});

HORN_REGISTER_OP({
    .name = "OneHot", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) {
      const DType t = c.input_dtypes[0];
      if (t != DType::kInt32 && t != DType::kUInt8)
        c.error("indices must be int32 or uint8, got ", dtype_name(t));
      const int64_t depth = c.attrs().get<int64_t>("depth");
      if (depth < 0) c.error("depth must be >= 0, got ", depth);
      std::vector<int64_t> dims = c.input_shapes[0].dims();
      dims.push_back(depth);
      c.set_output(c.attrs().get<DType>("dtype"), Shape(dims));
    },
    .kernel = [](KernelContext& k) {
      const int64_t depth = k.attrs().get<int64_t>("depth");
      const double on = k.attrs().get<double>("on"), off = k.attrs().get<double>("off");
      const Tensor idx = k.input(0).cast(DType::kInt32);
      const int32_t* ix = idx.data<int32_t>();
      visit_dtype(k.output().dtype(), [&](auto v) {
        using T = decltype(v);
        T* y = k.output().data<T>();
        std::fill(y, y + k.output().size(), static_cast<T>(off));
        for (int64_t i = 0; i < idx.size(); ++i)
          if (ix[i] >= 0 && ix[i] < depth) y[i * depth + ix[i]] = static_cast<T>(on);
      });
    },
    .differentiable = false,
});

HORN_REGISTER_OP({
    .name = "Identity", .num_inputs = 1, .shape_fn = shape_fns::same_as_input,
    .kernel = [](KernelContext& k) {
      if (k.output().nbytes()) std::memcpy(k.output().raw_data(), k.input(0).raw_data(), k.output().nbytes());
    },
    .gradient = [](Node&, const Grads& g) -> Grads { return {g[0]}; },
});

HORN_REGISTER_OP({
    .name = "StopGradient", .num_inputs = 1,
    .shape_fn = shape_fns::same_as_input,
    .kernel = [](KernelContext& k) { k.output() = k.input(0); },
    .differentiable = false,
    .kernel_sets_outputs = true,
    .view_of_input = 0,
    .simplify = identity_when_same_shape,
});

HORN_REGISTER_OP({
    .name = "ZerosLike", .num_inputs = 1, .traits = kShapeOnly, .shape_fn = shape_fns::same_as_input,
    .kernel = [](KernelContext& k) {
      if (k.output().nbytes()) std::memset(k.output().raw_data(), 0, k.output().nbytes());
    },
    .differentiable = false,
});

HORN_REGISTER_OP({
    .name = "OnesLike", .num_inputs = 1, .traits = kShapeOnly, .shape_fn = shape_fns::same_as_input,
    .kernel = [](KernelContext& k) {
      visit_dtype(k.output().dtype(), [&](auto v) {
        using T = decltype(v);
        std::fill_n(k.output().data<T>(), k.output().size(), T(1));
      });
    },
    .differentiable = false,
});

HORN_REGISTER_OP({
    .name = "Size", .num_inputs = 1, .traits = kShapeOnly,
    .shape_fn = [](ShapeContext& c) { c.set_output(c.attrs().get<DType>("dtype"), Shape{}); },
    .kernel = [](KernelContext& k) {
      k.output() = Tensor::fill(k.attrs().get<DType>("dtype"), Shape{}, static_cast<double>(k.input(0).size()));
    },
    .differentiable = false,
    .kernel_sets_outputs = true,
});

HORN_REGISTER_OP({
    .name = "RandomUniformLike", .num_inputs = 1, .traits = kStateful | kRandom,
    .shape_fn = shape_fns::unary_float,
    .kernel = [](KernelContext& k) {
      const uint64_t seed = static_cast<uint64_t>(k.attrs().get<int64_t>("seed"));
      const uint64_t key = random::stream_key(seed, k.run_index);
      kernels::dispatch_float(k.output().dtype(), [&](auto v) {
        using T = decltype(v);
        T* y = k.output().data<T>();
        parallel_blocks(k.output().size(), kElementwiseBlock, [=](int64_t s, int64_t e) {  // by value: vectorises
          for (int64_t i = s; i < e; ++i) y[i] = static_cast<T>(random::uniform01_at(key, i));
        });
      });
    },
    .differentiable = false,
});

Output unary_with_attrs(const char* op, Output x, AttrMap attrs, Name name) {
  if (!x.valid()) fail(op, ": the input is not set");
  return x.graph().add_node(op, {x}, std::move(attrs), name)->output();
}

}  // namespace

Output Reshape(Output x, const Shape& shape, Name name) {
  return unary_with_attrs("Reshape", x, {{"shape", shape}}, name);
}
Output ReshapeLike(Output x, Output like, Name name) {
  if (x.shape() == like.shape() && x.shape().is_fully_known()) return x;
  return x.graph().add_node("ReshapeLike", {x, like}, {}, name)->output();
}
Output ExpandDims(Output x, int64_t axis, Name name) {
  return unary_with_attrs("ExpandDims", x, {{"axis", axis}}, name);
}
Output Transpose(Output x, std::vector<int64_t> perm, Name name) {
  return unary_with_attrs("Transpose", x, {{"perm", std::move(perm)}}, name);
}
Output Cast(Output x, DType dtype, Name name) {
  return unary_with_attrs("Cast", x, {{"dtype", dtype}}, name);
}

Output RoundToBFloat16(Output x, Name name) { return x.graph().add_node("RoundToBFloat16", {x}, {}, name)->output(); }
Output OneHot(Output indices, int64_t depth, double on, double off, DType dtype, Name name) {
  return unary_with_attrs("OneHot", indices,
                          {{"depth", depth}, {"on", on}, {"off", off}, {"dtype", dtype}}, name);
}
Output Identity(Output x, Name name) { return unary_with_attrs("Identity", x, {}, name); }
Output StopGradient(Output x, Name name) { return unary_with_attrs("StopGradient", x, {}, name); }
Output ZerosLike(Output x, Name name) { return unary_with_attrs("ZerosLike", x, {}, name); }
Output OnesLike(Output x, Name name) { return unary_with_attrs("OnesLike", x, {}, name); }
Output Size(Output x, DType dtype, Name name) { return unary_with_attrs("Size", x, {{"dtype", dtype}}, name); }
Output RandomUniformLike(Output x, uint64_t seed, Name name) {
  return unary_with_attrs("RandomUniformLike", x, {{"seed", static_cast<int64_t>(seed)}}, name);
}

}  // namespace horn::ops
