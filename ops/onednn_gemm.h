// Matrix products on oneDNN: bfloat16 x bfloat16 -> float32 (on an Intel Xeon with AMX
// oneDNN 2.6.3 dispatches brg:avx512_core_amx_bf16, and avx512_core_bf16 for a K too small
// for AMX tiles; on a CPU without AMX, such as an AMD EPYC Zen 5, avx512_core_bf16 for all),
// and float32 x float32 -> float32 (brg:avx512_core: on the Xeon ~1.7x Eigen's GEMM at
// 1024^3 and level with it at the seed model's shapes; on the EPYC 1.3-1.7x at both).
//
// Threading: Debian's oneDNN is OpenMP-threaded, and its OpenMP team fights oneTBB for the
// cores. Horn instead splits a product into fixed panels (ops/matmul_op.cc) on oneTBB and
// runs each panel here single-threaded on the calling thread (omp_set_num_threads(1) for
// the call, the thread's own setting restored after). A panel's bits then depend only on
// its shape, never on the thread count.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace horn::kernels {

// A row-major or transposed matrix view: element (i, j) is data[i * row_stride + j * col_stride].
template <typename T>
struct MatrixView {
  const T* data;
  int64_t rows, cols, row_stride, col_stride;
};
using BFloat16View = MatrixView<bfloat16>;
using Float32View = MatrixView<float>;

// Whether this CPU and oneDNN build run bfloat16 (float32) matrix products (probed once).
bool onednn_bf16_gemm_available();
bool onednn_f32_gemm_available();

// C[rows, cols] (row stride ldc) = A[rows, k] B[k, cols], float32 accumulation. k > 0.
void onednn_bf16_gemm(const BFloat16View& a, const BFloat16View& b, float* c, int64_t ldc);
void onednn_f32_gemm(const Float32View& a, const Float32View& b, float* c, int64_t ldc);
// The same, chosen by the operands' type: for kernels templated over it.
inline void onednn_gemm(const BFloat16View& a, const BFloat16View& b, float* c, int64_t ldc) {
  onednn_bf16_gemm(a, b, c, ldc);
}
inline void onednn_gemm(const Float32View& a, const Float32View& b, float* c, int64_t ldc) {
  onednn_f32_gemm(a, b, c, ldc);
}

}  // namespace horn::kernels
