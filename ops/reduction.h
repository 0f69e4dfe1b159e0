// Sum and max reductions over axes, viewed as [outer, reduced, inner]; split in fixed blocks
// (core/parallel.h), so the bits do not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "core/op_registry.h"

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

// The reduction's association, which fused reductions (ops/fused_reduce_op.cc) reproduce to
// get the same bits: a reduction over all elements sums blocks of kReduceBlock with Eigen
// and adds the partials in order; a row is summed with Eigen as a whole; a middle axis is
// summed row after row, each column from 0 in order (in tasks of kColumnBlock columns).
inline constexpr int64_t kReduceBlock = 1 << 14;
inline constexpr int64_t kColumnBlock = 512;

enum class ReduceKind { kSum, kMax };
// Reduces `in` over `axes` into `out` (whose element count is the kept dimensions').
void reduce(const Tensor& in, const std::vector<int>& axes, ReduceKind kind, Tensor& out);

}  // namespace horn::kernels
