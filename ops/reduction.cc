#include "ops/reduction.h"

#include <algorithm>
#include <limits>

#include "ops/kernel_util.h"  // dispatch_float and the Eigen array maps

namespace horn::kernels {

std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int rank, const ShapeContext* ctx) {
  std::vector<int> out;
  if (axes.empty()) {
    for (int i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (int64_t a : axes) {
    const int64_t n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank) {
      if (ctx) ctx->error("axis ", a, " is out of range for rank ", rank);
      fail("axis ", a, " is out of range for rank ", rank);
    }
    out.push_back(static_cast<int>(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ReductionLayout reduction_layout(const Shape& shape, const std::vector<int>& axes) {
  ReductionLayout l;
  if (axes.empty()) {
    l.outer = shape.num_elements();
    return l;
  }
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] != axes[i - 1] + 1) l.contiguous = false;
  for (int d = 0; d < shape.rank(); ++d) {
    if (d < axes.front()) l.outer *= shape.dim(d);
    else if (d > axes.back()) l.inner *= shape.dim(d);
    else l.reduced *= shape.dim(d);
  }
  return l;
}

namespace {

template <typename T>
T identity(ReduceKind k) {
  return k == ReduceKind::kSum ? T(0) : -std::numeric_limits<T>::infinity();
}

template <typename T>
T combine(ReduceKind k, T a, T b) {
  return k == ReduceKind::kSum ? a + b : std::max(a, b);
}

template <typename T>
T reduce_contiguous(const T* x, int64_t n, ReduceKind k) {
  ConstArrayMap<T> a(x, n);
  return k == ReduceKind::kSum ? a.sum() : (n ? a.maxCoeff() : identity<T>(k));
}

template <typename T>
void reduce_typed(const Tensor& in, const std::vector<int>& axes, ReduceKind k, Tensor& out) {
  const T* x = in.data<T>();
  T* y = out.data<T>();
  const ReductionLayout l = reduction_layout(in.shape(), axes);
  if (!l.contiguous) {
    // Rare (e.g. [a,b,c] -> [1,b,1]): a plain sequential loop over every element.
    const Shape& s = in.shape();
    std::vector<bool> reduced(s.rank(), false);
    for (int a : axes) reduced[a] = true;
    std::fill(y, y + out.size(), identity<T>(k));
    std::vector<int64_t> index(s.rank(), 0);
    for (int64_t i = 0; i < in.size(); ++i) {
      int64_t o = 0;
      for (int d = 0; d < s.rank(); ++d)
        if (!reduced[d]) o = o * s.dim(d) + index[d];
      y[o] = combine(k, y[o], x[i]);
      for (int d = s.rank() - 1; d >= 0 && ++index[d] == s.dim(d); --d) index[d] = 0;
    }
    return;
  }
  if (l.inner == 1) {
    if (l.outer == 1) {  // one long reduction: fixed blocks of partials, summed in order
      const int64_t blocks = (l.reduced + kReduceBlock - 1) / kReduceBlock;
      std::vector<T> partial(std::max<int64_t>(blocks, 1), identity<T>(k));
      parallel_blocks(blocks, 1, [&](int64_t b, int64_t) {
        const int64_t s = b * kReduceBlock, e = std::min(l.reduced, s + kReduceBlock);
        partial[b] = reduce_contiguous(x + s, e - s, k);
      });
      T acc = identity<T>(k);
      for (T p : partial) acc = combine(k, acc, p);
      y[0] = acc;
      return;
    }
    const int64_t rows_per_block = std::max<int64_t>(1, kElementwiseBlock / std::max<int64_t>(l.reduced, 1));
    parallel_blocks(l.outer, rows_per_block, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) y[r] = reduce_contiguous(x + r * l.reduced, l.reduced, k);
    });
    return;
  }
  // Reduce the middle axis of [outer, reduced, inner]: accumulate rows of `inner` values.
  reduce_middle_axis(l, k == ReduceKind::kMax, y,
                     [&](int64_t o, int64_t c0, int64_t width, int64_t r0, int64_t r1, T* dst) {
                       MutArrayMap<T> acc(dst, width);
                       acc.setConstant(identity<T>(k));
                       for (int64_t r = r0; r < r1; ++r) {
                         ConstArrayMap<T> row(x + (o * l.reduced + r) * l.inner + c0, width);
                         if (k == ReduceKind::kSum) acc += row;
                         else acc = acc.max(row);
                       }
                     });
}

}  // namespace

void reduce(const Tensor& in, const std::vector<int>& axes, ReduceKind kind, Tensor& out) {
  dispatch_float(in.dtype(), [&](auto v) { reduce_typed<decltype(v)>(in, axes, kind, out); });
}

}  // namespace horn::kernels
