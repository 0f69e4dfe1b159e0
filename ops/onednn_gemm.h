// bfloat16 x bfloat16 -> float32 matrix products on oneDNN (AMX on this CPU: oneDNN 2.6.3
// dispatches brg:avx512_core_amx_bf16; a K too small for AMX tiles gets avx512_core_bf16).
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
struct BFloat16View {
  const bfloat16* data;
  int64_t rows, cols, row_stride, col_stride;
};

// Whether this CPU and oneDNN build run bfloat16 matrix products (probed once).
bool onednn_bf16_gemm_available();

// C[rows, cols] (row stride ldc) = A[rows, k] B[k, cols], float32 accumulation. k > 0.
void onednn_bf16_gemm(const BFloat16View& a, const BFloat16View& b, float* c, int64_t ldc);

}  // namespace horn::kernels
