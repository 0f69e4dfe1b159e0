#include "ops/conv_gemms.h"

#include <algorithm>

#include "ops/kernel_util.h"
#include "ops/onednn_gemm.h"
#include "ops/thread_scratch.h"
#include "ops/transpose_tiles.h"

namespace horn::kernels {
namespace {

// Each output row as K broadcast multiply-adds of W's rows: fixed per row, so the same bits
// for any panel. `tap(r, t)` reads col[r, t] as T.
template <typename T, typename Tap>
void direct_product(int64_t rows, int64_t k, const T* w, int64_t filters, T* y, Tap&& tap) {
  for (int64_t r = 0; r < rows; ++r) {
    MutArrayMap<T> out(y + r * filters, filters);
    out = ConstArrayMap<T>(w, filters) * tap(r, 0);
    for (int64_t t = 1; t < k; ++t) out += ConstArrayMap<T>(w + t * filters, filters) * tap(r, t);
  }
}

// The three products on oneDNN, operands of type In (bfloat16 or float), float32 results.
template <typename In>
MatrixView<In> rows_of(const In* data, int64_t rows, int64_t cols) {
  return {data, rows, cols, cols, 1};
}

template <typename In>
void onednn_forward(const In* col, int64_t rows, int64_t k, const In* w, int64_t filters, float* y) {
  onednn_gemm(rows_of(col, rows, k), rows_of(w, k, filters), y, filters);
}

// W^T [F, K] as a strided view of W [K, F]: oneDNN packs B itself.
template <typename In>
void onednn_input_grad(const In* dy, int64_t pixels, int64_t filters, const In* w, int64_t k, float* col) {
  onednn_gemm(rows_of(dy, pixels, filters), MatrixView<In>{w, filters, k, 1, filters}, col, k);
}

// oneDNN's brgemm kernels need A's rows contiguous (a strided A falls back to gemm:jit, about
// half as fast), so dW^T = dY^T col is computed instead of col^T dY: only dY, F columns
// wide, is copied transposed, rather than col, K = KH x KW x C columns wide; dW^T is then
// K x F values, transposed once into dW.
template <typename In>
void onednn_filter_grad(const In* col, int64_t rows, int64_t k, const In* dy, int64_t filters, float* dw) {
  In* dy_t = thread_scratch<In, ScratchSlot::kOperand>(filters * rows);
  transpose_tiles(dy, rows, filters, filters, dy_t, rows);
  float* dw_t = thread_scratch<float, ScratchSlot::kResult>(filters * k);
  onednn_gemm(rows_of(dy_t, filters, rows), rows_of(col, rows, k), dw_t, k);
  transpose_tiles(dw_t, filters, k, k, dw, filters);
}

}  // namespace

// float32 products go to oneDNN where it runs them (brgemm: on an AMD EPYC Zen 5, 1.35-2x
// Eigen's GEMM at mnist_cnn's and a 56x56x64 layer's shapes: bench/README.md, issue 13,
// seventh part); double, and float32 without oneDNN, to Eigen.
template <typename T>
void conv_forward_product(const T* col, int64_t rows, int64_t k, const T* w, int64_t filters, T* y) {
  if (k < kDirectConvTaps)
    return direct_product(rows, k, w, filters, y, [&](int64_t r, int64_t t) { return col[r * k + t]; });
  if constexpr (std::is_same_v<T, float>)
    if (onednn_f32_gemm_available()) return onednn_forward(col, rows, k, w, filters, y);
  MatrixMap<T>(y, rows, filters).noalias() = ConstMatrixMap<T>(col, rows, k) * ConstMatrixMap<T>(w, k, filters);
}

template <typename T>
void conv_input_grad_product(const T* dy, int64_t pixels, int64_t filters, const T* w, int64_t k, T* col) {
  if constexpr (std::is_same_v<T, float>)
    if (onednn_f32_gemm_available()) return onednn_input_grad(dy, pixels, filters, w, k, col);
  MatrixMap<T>(col, pixels, k).noalias() =
      ConstMatrixMap<T>(dy, pixels, filters) * ConstMatrixMap<T>(w, k, filters).transpose();
}

template <typename T>
void conv_filter_grad_product(const T* col, int64_t rows, int64_t k, const T* dy, int64_t filters, T* dw) {
  if constexpr (std::is_same_v<T, float>)
    if (onednn_f32_gemm_available()) return onednn_filter_grad(col, rows, k, dy, filters, dw);
  MatrixMap<T>(dw, k, filters).noalias() =
      ConstMatrixMap<T>(col, rows, k).transpose() * ConstMatrixMap<T>(dy, rows, filters);
}

template void conv_forward_product<float>(const float*, int64_t, int64_t, const float*, int64_t, float*);
template void conv_forward_product<double>(const double*, int64_t, int64_t, const double*, int64_t, double*);
template void conv_input_grad_product<float>(const float*, int64_t, int64_t, const float*, int64_t, float*);
template void conv_input_grad_product<double>(const double*, int64_t, int64_t, const double*, int64_t, double*);
template void conv_filter_grad_product<float>(const float*, int64_t, int64_t, const float*, int64_t, float*);
template void conv_filter_grad_product<double>(const double*, int64_t, int64_t, const double*, int64_t, double*);

// A handful of taps is too short for AMX tiles: widened to float (exactly), the products
// are exact and the sums float32, as on oneDNN.
void conv_forward_product(const bfloat16* col, int64_t rows, int64_t k, const bfloat16* w, int64_t filters,
                          float* y) {
  if (k >= kDirectConvTaps) {
    onednn_forward(col, rows, k, w, filters, y);
    return;
  }
  float* wide_w = thread_scratch<float, ScratchSlot::kOperand>(k * filters);
  std::transform(w, w + k * filters, wide_w, [](bfloat16 v) { return static_cast<float>(v); });
  direct_product(rows, k, static_cast<const float*>(wide_w), filters, y,
                 [&](int64_t r, int64_t t) { return static_cast<float>(col[r * k + t]); });
}

void conv_input_grad_product(const bfloat16* dy, int64_t pixels, int64_t filters, const bfloat16* w, int64_t k,
                             float* col) {
  onednn_input_grad(dy, pixels, filters, w, k, col);
}

void conv_filter_grad_product(const bfloat16* col, int64_t rows, int64_t k, const bfloat16* dy, int64_t filters,
                              float* dw) {
  onednn_filter_grad(col, rows, k, dy, filters, dw);
}

}  // namespace horn::kernels
