// Building blocks shared by the CPU kernels, in one include: dtype dispatch and Eigen array
// maps (here), per-thread scratch (thread_scratch.h), blocked elementwise loops
// (elementwise_driver.h), NumPy broadcasting (broadcast.h), and reductions over
// [outer, reduced, inner] views (reduction.h).
// All loops split work in fixed blocks (core/parallel.h): same bits for any thread count.
#pragma once
#include <Eigen/Core>

#include "core/bfloat16.h"
#include "core/op_registry.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/elementwise_driver.h"
#include "ops/reduction.h"
#include "ops/thread_scratch.h"

namespace horn::kernels {

template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Aligned16>;
template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using MutArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
// Row-major matrices over a tensor's data (Horn's layout).
template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;

// Calls fn(T{}) for float32/float64 tensors; any other dtype is an internal error because
// the shape function already refused it.
template <typename Fn>
auto dispatch_float(DType t, Fn&& fn) {
  if (t == DType::kFloat64) return fn(double{});
  HORN_ASSERT(t == DType::kFloat32, "float kernel got ", dtype_name(t));
  return fn(float{});
}

}  // namespace horn::kernels
