// Reductions over axes (Sum, Mean, Max, ArgMax) and the shape-matching helpers the autodiff
// engine uses for broadcasting (BroadcastLike, ReduceToShapeLike).
#include <algorithm>
#include <cstring>

#include "core/simplification.h"
#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using kernels::ReduceKind;
using Grads = std::vector<Output>;

std::vector<int> node_axes(const Node& n, int rank, const ShapeContext* c = nullptr) {
  return kernels::normalize_axes(n.attrs.get<std::vector<int64_t>>("axes"), rank, c);
}

Shape reduced_shape(const Shape& in, const std::vector<int>& axes, bool keepdims) {
  std::vector<int64_t> dims;
  for (int d = 0; d < in.rank(); ++d) {
    const bool reduced = std::binary_search(axes.begin(), axes.end(), d);
    if (!reduced) dims.push_back(in.dim(d));
    else if (keepdims) dims.push_back(1);
  }
  return Shape(dims);
}

void reduce_shape(ShapeContext& c) {
  shape_fns::require_float(c, 0);
  const std::vector<int> axes = node_axes(c.node, c.input_shapes[0].rank(), &c);
  c.set_output(c.input_dtypes[0], reduced_shape(c.input_shapes[0], axes, c.attrs().get<bool>("keepdims")));
}

// The incoming gradient of a reduction, brought back to the input's rank with 1s in the
// reduced axes, then broadcast to the input's shape.
Output broadcast_reduction_grad(Node& n, Output g) {
  Output x = n.inputs[0];
  if (!n.attrs.get<bool>("keepdims"))
    for (int axis : node_axes(n, x.shape().rank())) g = ExpandDims(g, axis);
  return BroadcastLike(g, x);
}

template <bool kMean>
std::optional<SumAxes> summed_axes(const Node& n) {
  const std::vector<int> axes = node_axes(n, n.inputs[0].shape().rank());
  return SumAxes{{axes.begin(), axes.end()}, kMean};
}

// The axes ReduceToShapeLike sums: the leading ones its target lacks and those it has as 1.
std::optional<SumAxes> axes_reduced_to_shape(const Node& n) {
  const Shape &from = n.inputs[0].shape(), &to = n.output_shapes[0];
  if (!from.is_fully_known() || !to.is_fully_known()) return std::nullopt;
  SumAxes s;
  const int lead = from.rank() - to.rank();
  for (int d = 0; d < from.rank(); ++d)
    if (d < lead || (to.dim(d - lead) == 1 && from.dim(d) != 1)) s.axes.push_back(d);
  return s;
}

HORN_REGISTER_OP({
    .name = "Sum", .num_inputs = 1, .traits = kReduction, .shape_fn = reduce_shape,
    .kernel = [](KernelContext& k) {
      kernels::reduce(k.input(0), node_axes(k.node, k.input(0).rank()), ReduceKind::kSum, k.output());
    },
    .gradient = [](Node& n, const Grads& g) -> Grads { return {broadcast_reduction_grad(n, g[0])}; },
    .sum_axes = summed_axes<false>,
});

HORN_REGISTER_OP({
    .name = "Mean", .num_inputs = 1, .traits = kReduction, .shape_fn = reduce_shape,
    .kernel = [](KernelContext& k) {
      const Tensor& x = k.input(0);
      kernels::reduce(x, node_axes(k.node, x.rank()), ReduceKind::kSum, k.output());
      const int64_t count = k.output().size() ? x.size() / k.output().size() : 0;
      kernels::dispatch_float(x.dtype(), [&](auto v) {
        using T = decltype(v);
        kernels::MutArrayMap<T>(k.output().data<T>(), k.output().size()) *= T(1) / T(count);
      });
    },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output x = n.inputs[0], y = n.output();
      return {broadcast_reduction_grad(n, g[0]) * (Size(y, x.dtype()) / Size(x, x.dtype()))};
    },
    .sum_axes = summed_axes<true>,
});

HORN_REGISTER_OP({
    .name = "Max", .num_inputs = 1, .traits = kReduction, .shape_fn = reduce_shape,
    .kernel = [](KernelContext& k) {
      kernels::reduce(k.input(0), node_axes(k.node, k.input(0).rank()), ReduceKind::kMax, k.output());
    },
    // Ties share the gradient equally, as in TensorFlow.
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output x = n.inputs[0];
      Output y = broadcast_reduction_grad(n, n.output());
      Output mask = Cast(Equal(x, y), x.dtype());
      std::vector<int64_t> axes;
      for (int a : node_axes(n, x.shape().rank())) axes.push_back(a);
      Output ties = BroadcastLike(Sum(mask, axes, true), x);
      return {broadcast_reduction_grad(n, g[0]) * mask / ties};
    },
});

HORN_REGISTER_OP({
    .name = "ArgMax", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) {
      const int rank = c.input_shapes[0].rank();
      if (rank == 0) c.error("needs an input of rank 1 or more, got a scalar");
      if (!is_floating(c.input_dtypes[0]) && c.input_dtypes[0] != DType::kInt32)
        c.error("input must be float or int32, got ", dtype_name(c.input_dtypes[0]));
      const int axis = kernels::normalize_axes({c.attrs().get<int64_t>("axis")}, rank, &c)[0];
      c.set_output(DType::kInt32, reduced_shape(c.input_shapes[0], {axis}, false));
    },
    .kernel = [](KernelContext& k) {
      const Tensor& x = k.input(0);
      const int axis = kernels::normalize_axes({k.attrs().get<int64_t>("axis")}, x.rank(), nullptr)[0];
      const kernels::ReductionLayout l = kernels::reduction_layout(x.shape(), {axis});
      if (l.reduced == 0) fail("ArgMax '", k.node.name, "': the reduced axis of ", x.shape(), " is empty");
      int32_t* y = k.output().data<int32_t>();
      visit_dtype(x.dtype(), [&](auto v) {
        using T = decltype(v);
        const T* p = x.data<T>();
        parallel_blocks(l.outer * l.inner, kElementwiseBlock / 16, [&](int64_t s, int64_t e) {
          for (int64_t o = s; o < e; ++o) {
            const int64_t outer = o / l.inner, inner = o % l.inner;
            const T* base = p + outer * l.reduced * l.inner + inner;
            int32_t best = 0;
            for (int64_t r = 1; r < l.reduced; ++r)
              if (base[r * l.inner] > base[best * l.inner]) best = static_cast<int32_t>(r);
            y[o] = best;
          }
        });
      });
    },
    .differentiable = false,
});

HORN_REGISTER_OP({
    .name = "BroadcastLike", .num_inputs = 2, .traits = kBroadcasting,
    .shape_fn = [](ShapeContext& c) {
      Shape out;
      if (!broadcast_shapes(c.input_shapes[0], c.input_shapes[1], &out) ||
          out.rank() != c.input_shapes[1].rank())
        c.error("cannot broadcast ", c.input_shapes[0], " to ", c.input_shapes[1]);
      c.set_output(c.input_dtypes[0], c.input_shapes[1]);
    },
    .kernel = [](KernelContext& k) {
      visit_dtype(k.input(0).dtype(), [&](auto v) {
        using T = decltype(v);
        kernels::broadcast_binary<T, T>(k.input(0), k.input(0), k.output(),
                                        [](T a, T) { return a; });
      });
    },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      return {ReduceToShapeLike(g[0], n.inputs[0]), Output{}};
    },
    .simplify = identity_when_same_shape,
});

HORN_REGISTER_OP({
    .name = "ReduceToShapeLike", .num_inputs = 2, .traits = kReduction,
    .shape_fn = [](ShapeContext& c) {
      shape_fns::require_float(c, 0);
      Shape out;
      if (c.input_shapes[1].rank() > c.input_shapes[0].rank() ||
          !broadcast_shapes(c.input_shapes[0], c.input_shapes[1], &out))
        c.error("cannot reduce ", c.input_shapes[0], " to ", c.input_shapes[1]);
      c.set_output(c.input_dtypes[0], c.input_shapes[1]);
    },
    .kernel = [](KernelContext& k) {
      const Shape& from = k.input(0).shape();
      const Shape& to = k.input(1).shape();
      const int lead = from.rank() - to.rank();
      std::vector<int64_t> axes;
      for (int d = 0; d < from.rank(); ++d) {
        if (d < lead) axes.push_back(d);
        else if (to.dim(d - lead) == 1 && from.dim(d) != 1) axes.push_back(d);
        else if (to.dim(d - lead) != from.dim(d))
          fail("ReduceToShapeLike '", k.node.name, "': cannot reduce ", from, " to ", to);
      }
      if (axes.empty()) {  // nothing was broadcast: a view, no copy
        k.output() = k.input(0).reshaped(to);
        return;
      }
      k.output() = Tensor(k.input(0).dtype(), to);
      std::vector<int> ax(axes.begin(), axes.end());
      kernels::reduce(k.input(0), ax, ReduceKind::kSum, k.output());
    },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      return {BroadcastLike(g[0], n.inputs[0]), Output{}};
    },
    .kernel_sets_outputs = true,
    .view_of_input = 0,  // when nothing is reduced
    .sum_axes = axes_reduced_to_shape,
    .simplify = identity_when_same_shape,
});

Output reduction(const char* op, Output x, std::vector<int64_t> axes, bool keepdims, Name name) {
  return x.graph().add_node(op, {x}, {{"axes", std::move(axes)}, {"keepdims", keepdims}}, name)->output();
}

}  // namespace

Output Sum(Output x, std::vector<int64_t> axes, bool keepdims, Name name) {
  return reduction("Sum", x, std::move(axes), keepdims, name);
}
Output Mean(Output x, std::vector<int64_t> axes, bool keepdims, Name name) {
  return reduction("Mean", x, std::move(axes), keepdims, name);
}
Output Max(Output x, std::vector<int64_t> axes, bool keepdims, Name name) {
  return reduction("Max", x, std::move(axes), keepdims, name);
}
Output ArgMax(Output x, int64_t axis, Name name) {
  return x.graph().add_node("ArgMax", {x}, {{"axis", axis}}, name)->output();
}
Output BroadcastLike(Output x, Output like, Name name) {
  if (x.shape() == like.shape() && x.shape().is_fully_known()) return x;
  return x.graph().add_node("BroadcastLike", {x, like}, {}, name)->output();
}
Output ReduceToShapeLike(Output x, Output like, Name name) {
  if (x.shape() == like.shape() && x.shape().is_fully_known()) return x;
  return x.graph().add_node("ReduceToShapeLike", {x, like}, {}, name)->output();
}

}  // namespace horn::ops
