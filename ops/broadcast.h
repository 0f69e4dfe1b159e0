// NumPy broadcasting for binary kernels, split in fixed blocks (same bits for any thread
// count).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace horn::kernels {

// Per output dimension, the stride of an operand (0 where it is broadcast).
std::vector<int64_t> broadcast_strides(const Shape& operand, const Shape& out);

// out[i] = f(a[ia], b[ib]) with NumPy broadcasting; f works on scalars. The innermost
// dimension runs as a tight loop specialised on whether each side is broadcast.
template <typename T, typename R, typename F>
void broadcast_binary(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  R* po = out.data<R>();
  const int64_t n = out.size();
  if (n == 0) return;
  if (a.shape() == out.shape() && b.shape() == out.shape()) {
    parallel_blocks(n, kElementwiseBlock, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  const Shape& os = out.shape();
  const int rank = os.rank();
  const std::vector<int64_t> sa = broadcast_strides(a.shape(), os), sb = broadcast_strides(b.shape(), os);
  const int64_t inner = rank ? os.dim(rank - 1) : 1;
  const int64_t rows = n / inner;
  const int64_t ia = rank ? sa[rank - 1] : 0, ib = rank ? sb[rank - 1] : 0;
  const int64_t rows_per_block = std::max<int64_t>(1, kElementwiseBlock / std::max<int64_t>(inner, 1));
  parallel_blocks(rows, rows_per_block, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t oa = 0, ob = 0, rem = r;
      for (int d = rank - 2; d >= 0; --d) {
        const int64_t idx = rem % os.dim(d);
        rem /= os.dim(d);
        oa += idx * sa[d];
        ob += idx * sb[d];
      }
      const T* xa = pa + oa;
      const T* xb = pb + ob;
      R* y = po + r * inner;
      if (ia && ib) for (int64_t i = 0; i < inner; ++i) y[i] = f(xa[i], xb[i]);
      else if (ia) { const T vb = *xb; for (int64_t i = 0; i < inner; ++i) y[i] = f(xa[i], vb); }
      else if (ib) { const T va = *xa; for (int64_t i = 0; i < inner; ++i) y[i] = f(va, xb[i]); }
      else { const R v = f(*xa, *xb); for (int64_t i = 0; i < inner; ++i) y[i] = v; }
    }
  });
}

}  // namespace horn::kernels
