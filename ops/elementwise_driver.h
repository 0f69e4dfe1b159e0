// Elementwise ops: an op's ElementwiseFn run over whole tensors in fixed blocks, and the
// macros that write chunk functions from Eigen expressions.
#pragma once
#include <vector>

#include "core/op_registry.h"

namespace horn::kernels {

// Runs an op's ElementwiseFn over same-shaped inputs, in fixed blocks.
void run_elementwise(const ElementwiseFn& fn, const std::vector<Tensor>& inputs, Tensor& out);
// The kernel of an op whose inputs all have the output's shape: its ElementwiseFn, blocked.
void elementwise_kernel(KernelContext& k);

// Chunk functions from expressions, for OpDef::elementwise. In EXPR, `x` (unary) or `a`
// and `b` (binary) are Eigen arrays over the chunk; T is the element type. The array maps
// they use are in ops/kernel_util.h: include that to use these.
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

}  // namespace horn::kernels
