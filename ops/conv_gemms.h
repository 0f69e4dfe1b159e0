// The three matrix products behind the convolution kernels (ops/conv_kernels.cc), on im2col
// panels: col [rows, K] with one column per filter tap (ky, kx, c), W [K, F] (HWIO viewed
// as a matrix), dY [rows, F]. Each runs on the calling thread; the caller splits the work.
//
// float32: oneDNN's GEMM where it runs here, else Eigen's; double: Eigen's. bfloat16
// operands give float32 results (products of bfloat16 values are exact in float32 and summed
// in float32), on oneDNN (AMX, or AVX512-BF16 on a CPU without AMX: ops/onednn_gemm.h); the
// callers check onednn_bf16_gemm_available() first.
#pragma once
#include <cstdint>

#include "core/bfloat16.h"

namespace horn::kernels {

// Below this many taps a GEMM is mostly packing: the forward product is a few broadcast
// multiply-adds per output row instead (the first layer of an image model: 3x3 taps over 1
// or 3 channels).
inline constexpr int64_t kDirectConvTaps = 32;

// Y [rows, F] = col [rows, K] x W [K, F].
template <typename T>
void conv_forward_product(const T* col, int64_t rows, int64_t k, const T* w, int64_t filters, T* y);
void conv_forward_product(const bfloat16* col, int64_t rows, int64_t k, const bfloat16* w, int64_t filters,
                          float* y);

// col [pixels, K] = dY [pixels, F] x W^T.
template <typename T>
void conv_input_grad_product(const T* dy, int64_t pixels, int64_t filters, const T* w, int64_t k, T* col);
void conv_input_grad_product(const bfloat16* dy, int64_t pixels, int64_t filters, const bfloat16* w, int64_t k,
                             float* col);

// dW [K, F] = col^T x dY, over `rows` rows.
template <typename T>
void conv_filter_grad_product(const T* col, int64_t rows, int64_t k, const T* dy, int64_t filters, T* dw);
void conv_filter_grad_product(const bfloat16* col, int64_t rows, int64_t k, const bfloat16* dy, int64_t filters,
                              float* dw);

}  // namespace horn::kernels
