// Building blocks shared by the CPU kernels: dtype dispatch, blocked elementwise loops over
// Eigen arrays, NumPy broadcasting, and reductions over [outer, reduced, inner] views.
// All loops split work in fixed blocks (core/parallel.h): same bits for any thread count.
#pragma once
#include <Eigen/Core>
#include <cstdlib>
#include <vector>

#include "core/op_registry.h"
#include "core/parallel.h"

namespace horn::kernels {

template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Aligned16>;
template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using MutArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// Calls fn(T{}) for float32/float64 tensors; any other dtype is an internal error because
// the shape function already refused it.
template <typename Fn>
auto dispatch_float(DType t, Fn&& fn) {
  if (t == DType::kFloat64) return fn(double{});
  HORN_ASSERT(t == DType::kFloat32, "float kernel got ", dtype_name(t));
  return fn(float{});
}

// Per-thread 64-byte-aligned scratch of at least `elements` values, kept for the thread's
// life. Kernels that hold two at once (a GEMM panel while the fused program runs on it) use
// different slots.
enum class ScratchSlot { kProgram, kPanel, kReduction };
template <typename T, ScratchSlot kSlot>
T* thread_scratch(int64_t elements) {
  struct Buffer {
    T* data = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer b;
  if (b.size < elements) {
    std::free(b.data);
    b.data = static_cast<T*>(std::aligned_alloc(64, (elements * sizeof(T) + 63) / 64 * 64));
    if (!b.data) fail("out of memory for ", elements, " values of kernel scratch");
    b.size = elements;
  }
  return b.data;
}

// Runs an op's ElementwiseFn over same-shaped inputs, in fixed blocks.
void run_elementwise(const ElementwiseFn& fn, const std::vector<Tensor>& inputs, Tensor& out);
// The kernel of an op whose inputs all have the output's shape: its ElementwiseFn, blocked.
void elementwise_kernel(KernelContext& k);

// Chunk functions from expressions, for OpDef::elementwise. In EXPR, `x` (unary) or `a`
// and `b` (binary) are Eigen arrays over the chunk; T is the element type.
#define HORN_UNARY_CHUNK(T, EXPR)                                  \
  [](const T* const* in, T* out, int64_t n) {                      \
    const ::horn::kernels::ConstArrayMap<T> x(in[0], n);           \
    ::horn::kernels::MutArrayMap<T>(out, n) = (EXPR);               \
  }
#define HORN_BINARY_CHUNK(T, EXPR)                                 \
  [](const T* const* in, T* out, int64_t n) {                      \
    const ::horn::kernels::ConstArrayMap<T> a(in[0], n), b(in[1], n); \
    ::horn::kernels::MutArrayMap<T>(out, n) = (EXPR);               \
  }
// Same, from a scalar expression of `a` and `b` (the broadcasting ops' formula).
#define HORN_SCALAR_BINARY_CHUNK(T, EXPR)                          \
  [](const T* const* in, T* out, int64_t n) {                      \
    for (int64_t i = 0; i < n; ++i) {                              \
      const T a = in[0][i], b = in[1][i];                          \
      out[i] = (EXPR);                                             \
    }                                                              \
  }

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
