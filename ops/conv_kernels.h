// Convolution kernels (NHWC input, HWIO filter) on GEMMs (ops/conv_gemms.h), over im2col panels that
// stay in cache: the im2col matrix of a convolution has one row per output pixel (n, y, x)
// and one column per filter tap (ky, kx, c), so that Y = col x W with W viewed as
// [k_h * k_w * C, F] (HWIO is already that layout).
//
// Work is split in pieces that depend only on the shapes (fixed row panels, whole images,
// fixed row chunks summed in order), never on the thread count: the same bits for any
// number of threads.
#pragma once
#include <functional>

#include "core/bfloat16.h"
#include "ops/kernel_util.h"
#include "ops/window_geometry.h"

namespace horn::kernels {

// Called with the range [begin, end) of output elements that a piece of the kernel has just
// finished, on the thread that made them (a fused epilogue runs there while they are hot).
using FinishedRange = std::function<void(int64_t begin, int64_t end)>;

// In and Out: float and float, double and double, or bfloat16 and float (float32
// accumulation on oneDNN's AMX GEMM: call only when onednn_bf16_gemm_available()).

// y [N, OH, OW, F] = conv(x [N, H, W, C], w [KH, KW, C, F]).
template <typename In, typename Out>
void conv2d_forward(const In* x, const In* w, const WindowGeometry& g, int64_t filters, Out* y,
                    const FinishedRange& finished = {});
// dx [N, H, W, C] from dy [N, OH, OW, F] and w.
template <typename In, typename Out>
void conv2d_input_grad(const In* dy, const In* w, const WindowGeometry& g, int64_t filters, Out* dx,
                       const FinishedRange& finished = {});
// dw [KH, KW, C, F] from x and dy.
template <typename In, typename Out>
void conv2d_filter_grad(const In* x, const In* dy, const WindowGeometry& g, int64_t filters, Out* dw);

enum class ConvPass { kForward, kInputGrad, kFilterGrad };
// The per-thread scratch (im2col panels) one of the kernels above takes, in bytes, for
// inputs and output of these element sizes.
int64_t conv2d_scratch_bytes(const WindowGeometry& g, int64_t filters, int64_t input_size, int64_t output_size,
                             ConvPass pass);

}  // namespace horn::kernels
