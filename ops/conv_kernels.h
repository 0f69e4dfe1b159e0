// Convolution kernels (NHWC input, HWIO filter) on Eigen's GEMM, over im2col panels that
// stay in cache: the im2col matrix of a convolution has one row per output pixel (n, y, x)
// and one column per filter tap (ky, kx, c), so that Y = col x W with W viewed as
// [k_h * k_w * C, F] (HWIO is already that layout).
//
// Work is split in pieces that depend only on the shapes (fixed row panels, whole images,
// fixed row chunks summed in order), never on the thread count: the same bits for any
// number of threads.
#pragma once
#include <functional>

#include "ops/kernel_util.h"
#include "ops/window_geometry.h"

namespace horn::kernels {

// Called with the range [begin, end) of output elements that a piece of the kernel has just
// finished, on the thread that made them (a fused epilogue runs there while they are hot).
using FinishedRange = std::function<void(int64_t begin, int64_t end)>;

// y [N, OH, OW, F] = conv(x [N, H, W, C], w [KH, KW, C, F]).
template <typename T>
void conv2d_forward(const T* x, const T* w, const WindowGeometry& g, int64_t filters, T* y,
                    const FinishedRange& finished = {});
// dx [N, H, W, C] from dy [N, OH, OW, F] and w.
template <typename T>
void conv2d_input_grad(const T* dy, const T* w, const WindowGeometry& g, int64_t filters, T* dx,
                       const FinishedRange& finished = {});
// dw [KH, KW, C, F] from x and dy.
template <typename T>
void conv2d_filter_grad(const T* x, const T* dy, const WindowGeometry& g, int64_t filters, T* dw);

enum class ConvPass { kForward, kInputGrad, kFilterGrad };
// The per-thread scratch (im2col panels) one of the kernels above takes, in bytes.
int64_t conv2d_scratch_bytes(const WindowGeometry& g, int64_t filters, int64_t element_size, ConvPass pass);

}  // namespace horn::kernels
