// Softmax, LogSoftmax and the fused, numerically stable softmax cross-entropy, all over the
// last axis, one row at a time.
#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using Grads = std::vector<Output>;

void last_axis_float(ShapeContext& c) {
  shape_fns::require_float(c, 0);
  if (c.input_shapes[0].rank() == 0) c.error("needs an input of rank 1 or more, got a scalar");
  c.set_output(c.input_dtypes[0], c.input_shapes[0]);
}

// Calls fn(row_in, row_out, row) for each row of the last axis, in blocks of rows.
template <typename T, typename Fn>
void for_each_row(const Tensor& x, Fn fn) {
  const int64_t cols = x.rank() ? x.dim(-1) : 1;
  const int64_t rows = cols ? x.size() / cols : 0;
  const int64_t rows_per_block = std::max<int64_t>(1, kElementwiseBlock / std::max<int64_t>(cols, 1));
  parallel_blocks(rows, rows_per_block, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) fn(r, cols);
  });
}

enum class SoftmaxKind { kSoftmax, kLogSoftmax };

template <SoftmaxKind kind>
void softmax_kernel(KernelContext& k) {
  kernels::dispatch_float(k.input(0).dtype(), [&](auto v) {
    using T = decltype(v);
    const T* x = k.input(0).data<T>();
    T* y = k.output().data<T>();
    for_each_row<T>(k.input(0), [&](int64_t r, int64_t cols) {
      if (cols == 0) return;
      kernels::ConstArrayMap<T> in(x + r * cols, cols);
      kernels::MutArrayMap<T> out(y + r * cols, cols);
      const T max = in.maxCoeff();
      if constexpr (kind == SoftmaxKind::kSoftmax) {
        out = (in - max).exp();
        out /= out.sum();
      } else {
        out = in - max;
        out -= std::log(out.exp().sum());
      }
    });
  });
}

HORN_REGISTER_OP({
    .name = "Softmax", .num_inputs = 1, .shape_fn = last_axis_float,
    .kernel = softmax_kernel<SoftmaxKind::kSoftmax>,
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output y = n.output();
      return {y * (g[0] - Sum(g[0] * y, {-1}, true))};
    },
});

HORN_REGISTER_OP({
    .name = "LogSoftmax", .num_inputs = 1, .shape_fn = last_axis_float,
    .kernel = softmax_kernel<SoftmaxKind::kLogSoftmax>,
    .gradient = [](Node& n, const Grads& g) -> Grads {
      return {g[0] - Exp(n.output()) * Sum(g[0], {-1}, true)};
    },
});

HORN_REGISTER_OP({
    .name = "SoftmaxCrossEntropyWithLogits", .num_inputs = 2,
    .shape_fn = [](ShapeContext& c) {
      shape_fns::require_float(c, 0);
      shape_fns::require_same_dtype(c, 0, 1);
      const Shape& logits = c.input_shapes[0];
      if (logits.rank() == 0) c.error("logits must have rank 1 or more, got a scalar");
      if (!logits.is_compatible_with(c.input_shapes[1]))
        c.error("logits ", logits, " and labels ", c.input_shapes[1], " must have the same shape");
      std::vector<int64_t> dims(logits.dims().begin(), logits.dims().end() - 1);
      c.set_output(c.input_dtypes[0], Shape(dims));
    },
    // loss = sum(labels) * logsumexp(z) - sum(labels * z), with z shifted by its max so
    // that no exp overflows, whatever the logits' magnitude.
    .kernel = [](KernelContext& k) {
      kernels::dispatch_float(k.input(0).dtype(), [&](auto v) {
        using T = decltype(v);
        const T* z = k.input(0).data<T>();
        const T* labels = k.input(1).data<T>();
        T* loss = k.output().data<T>();
        for_each_row<T>(k.input(0), [&](int64_t r, int64_t cols) {
          if (cols == 0) { loss[r] = 0; return; }
          kernels::ConstArrayMap<T> in(z + r * cols, cols), y(labels + r * cols, cols);
          const T max = in.maxCoeff();
          const T lse = std::log((in - max).exp().sum());
          loss[r] = (y * (lse - (in - max))).sum();
        });
      });
    },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output logits = n.inputs[0], labels = n.inputs[1];
      Output gx = ExpandDims(g[0], -1);
      return {gx * (Softmax(logits) - labels), Neg(gx) * LogSoftmax(logits)};
    },
});

}  // namespace

Output Softmax(Output x, Name name) { return x.graph().add_node("Softmax", {x}, {}, name)->output(); }
Output LogSoftmax(Output x, Name name) {
  return x.graph().add_node("LogSoftmax", {x}, {}, name)->output();
}
Output SoftmaxCrossEntropyWithLogits(const SoftmaxCrossEntropyArgs& a) {
  if (!a.labels.node || !a.logits.node)
    fail("SoftmaxCrossEntropyWithLogits: both .labels and .logits must be given, e.g. ",
         "SoftmaxCrossEntropyWithLogits({.labels = y, .logits = z})");
  Graph& g = a.logits.graph();
  return g.add_node("SoftmaxCrossEntropyWithLogits", {a.logits, a.labels}, {}, a.name)->output();
}

}  // namespace horn::ops
