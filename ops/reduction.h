// Sum and max reductions over axes, viewed as [outer, reduced, inner]; split in fixed blocks
// (core/parallel.h), so the bits do not depend on the thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/op_registry.h"
#include "core/parallel.h"

namespace horn::kernels {

// Sorted, de-duplicated, non-negative axes; an empty list means every axis.
std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int rank, const ShapeContext* ctx);

// How a reduction over `axes` of `shape` maps to [outer, reduced, inner] when the reduced
// axes are adjacent; `contiguous` is false otherwise.
struct ReductionLayout {
  int64_t outer = 1, reduced = 1, inner = 1;
  bool contiguous = true;
};
ReductionLayout reduction_layout(const Shape& shape, const std::vector<int>& axes);

// The reduction's association, which fused reductions (ops/fused_reduce_op.cc, a GEMM's
// column sums) reproduce to get the same bits: a reduction over all elements sums blocks of
// kReduceBlock with Eigen and adds the partials in order; a row is summed with Eigen as a
// whole; a middle axis is summed in blocks of kReduceRows rows (in tasks of kColumnBlock
// columns), each block row after row from its first, and the blocks' partials are then
// added in block order. A batch's bias gradient (at most kReduceRows rows) is one block,
// summed from row 0 down; a convolution's (73,728 rows in mnist_cnn) is 288 tasks where it
// was one.
inline constexpr int64_t kReduceBlock = 1 << 14;
inline constexpr int64_t kColumnBlock = 512;
inline constexpr int64_t kReduceRows = 256;

// How many blocks of kReduceRows rows a middle axis of `reduced` rows is summed in.
inline int64_t row_blocks(int64_t reduced) { return reduced <= kReduceRows ? 1 : (reduced + kReduceRows - 1) / kReduceRows; }

// out[0, width) = the partials parts[b * stride + (0, width)] for b in [0, blocks), added in
// block order from the first (sums), or their maxima.
template <typename T>
void combine_row_blocks(const T* parts, int64_t blocks, int64_t stride, int64_t width, bool max, T* out) {
  std::copy_n(parts, width, out);
  for (int64_t b = 1; b < blocks; ++b)
    for (int64_t j = 0; j < width; ++j) {
      const T p = parts[b * stride + j];
      out[j] = max ? std::max(out[j], p) : out[j] + p;
    }
}

// The tasks of a middle-axis reduction of [outer, reduced, inner], in the association above,
// in parallel: task(o, c0, width, r0, r1, acc) sets acc[0, width) to the reduction (sum, or
// maximum with `max`) of rows [r0, r1) of columns [c0, c0 + width) of slab o. With one row
// block, acc is the slab's place in y; otherwise the blocks' partials are combined into y.
template <typename T, typename Task>
void reduce_middle_axis(const ReductionLayout& l, bool max, T* y, Task&& task) {
  const int64_t col_blocks = (l.inner + kColumnBlock - 1) / kColumnBlock;
  const int64_t blocks = row_blocks(l.reduced);
  std::vector<T> partial(blocks > 1 ? l.outer * blocks * l.inner : 0);
  parallel_blocks(l.outer * col_blocks * blocks, 1, [&](int64_t t, int64_t) {
    const int64_t rb = t % blocks, o = t / blocks / col_blocks, c0 = (t / blocks % col_blocks) * kColumnBlock;
    T* acc = blocks == 1 ? y + o * l.inner + c0 : partial.data() + (o * blocks + rb) * l.inner + c0;
    task(o, c0, std::min(kColumnBlock, l.inner - c0), rb * kReduceRows, std::min(l.reduced, (rb + 1) * kReduceRows),
         acc);
  });
  if (blocks > 1)
    for (int64_t o = 0; o < l.outer; ++o)
      combine_row_blocks(partial.data() + o * blocks * l.inner, blocks, l.inner, l.inner, max, y + o * l.inner);
}

enum class ReduceKind { kSum, kMax };
// Reduces `in` over `axes` into `out` (whose element count is the kept dimensions').
void reduce(const Tensor& in, const std::vector<int>& axes, ReduceKind kind, Tensor& out);

}  // namespace horn::kernels
