#include "ops/conv_kernels.h"

#include <vector>

#include "ops/conv_gemms.h"
#include "ops/kernel_util.h"

namespace horn::kernels {
namespace {

// An im2col panel of about this many bytes stays in L2 for the GEMM that reads it; more
// rows per panel make the GEMM itself more efficient.
constexpr int64_t kPanelBytes = 512 << 10;
// Rows per forward panel: a multiple of 64 from 256 to 4096, from the shapes only (the bits
// must not depend on anything else).
int64_t panel_rows(int64_t k, size_t element) {
  const int64_t rows = kPanelBytes / std::max<int64_t>(1, k * static_cast<int64_t>(element));
  return std::clamp<int64_t>(rows / 64 * 64, 256, 4096);
}
// Output rows per partial filter gradient: each chunk's col^T dy is a separate partial sum,
// and the partials are added in chunk order.
constexpr int64_t kFilterGradRows = 2048;

// Calls fn(tap, iy, ix) for the window taps of output pixel (oy, ox) in (ky, kx) order, with
// the input row and column each reads (possibly outside the image: padding).
template <typename Fn>
void for_each_tap(const WindowGeometry& g, int64_t oy, int64_t ox, Fn&& fn) {
  for (int64_t ky = 0; ky < g.k_h; ++ky) {
    const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
    for (int64_t kx = 0; kx < g.k_w; ++kx)
      fn(ky * g.k_w + kx, iy, ox * g.stride_w - g.pad_left + kx * g.dilation_w);
  }
}

bool inside(const WindowGeometry& g, int64_t iy, int64_t ix) { return iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w; }

// Rows [r0, r1) of x's im2col matrix into `col` (zeros where a window reads padding). A
// window row that lies inside the image with no dilation is one contiguous copy.
template <typename T>
void im2col(const T* x, const WindowGeometry& g, int64_t r0, int64_t r1, T* col) {
  const int64_t c = g.channels, k = g.window_size(), row_taps = g.k_w * c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.out_pixels(), p = r % g.out_pixels(), oy = p / g.out_w, ox = p % g.out_w;
    const T* image = x + n * g.in_pixels() * c;
    T* row = col + (r - r0) * k;
    const int64_t ix0 = ox * g.stride_w - g.pad_left, ix_last = ix0 + (g.k_w - 1) * g.dilation_w;
    const bool whole_rows = g.dilation_w == 1 && ix0 >= 0 && ix_last < g.in_w;
    for (int64_t ky = 0; ky < g.k_h; ++ky) {
      const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
      T* dst = row + ky * row_taps;
      if (iy < 0 || iy >= g.in_h) {
        std::fill_n(dst, row_taps, T(0));
      } else if (whole_rows) {
        std::copy_n(image + (iy * g.in_w + ix0) * c, row_taps, dst);
      } else {
        for (int64_t kx = 0; kx < g.k_w; ++kx) {
          const int64_t ix = ix0 + kx * g.dilation_w;
          if (ix >= 0 && ix < g.in_w) std::copy_n(image + (iy * g.in_w + ix) * c, c, dst + kx * c);
          else std::fill_n(dst + kx * c, c, T(0));
        }
      }
    }
  }
}

// dx (one image) += the im2col rows of that image's output pixels, scattered back.
template <typename T>
void col2im_add(const T* col, const WindowGeometry& g, T* dx_image) {
  const int64_t c = g.channels, k = g.window_size();
  for (int64_t p = 0; p < g.out_pixels(); ++p) {
    const T* row = col + p * k;
    for_each_tap(g, p / g.out_w, p % g.out_w, [&](int64_t tap, int64_t iy, int64_t ix) {
      if (!inside(g, iy, ix)) return;
      MutArrayMap<T>(dx_image + (iy * g.in_w + ix) * c, c) += ConstArrayMap<T>(row + tap * c, c);
    });
  }
}

}  // namespace

template <typename In, typename Out>
void conv2d_forward(const In* x, const In* w, const WindowGeometry& g, int64_t filters, Out* y,
                    const FinishedRange& finished) {
  const int64_t rows = g.batch * g.out_pixels(), k = g.window_size();
  parallel_blocks(rows, panel_rows(k, sizeof(In)), [&](int64_t r0, int64_t r1) {
    const In* col = x + r0 * k;  // a pointwise convolution reads its input as it is
    if (!g.is_pointwise()) {
      In* panel = thread_scratch<In, ScratchSlot::kPanel>((r1 - r0) * k);
      im2col(x, g, r0, r1, panel);
      col = panel;
    }
    conv_forward_product(col, r1 - r0, k, w, filters, y + r0 * filters);
    if (finished) finished(r0 * filters, r1 * filters);
  });
}

template <typename In, typename Out>
void conv2d_input_grad(const In* dy, const In* w, const WindowGeometry& g, int64_t filters, Out* dx,
                       const FinishedRange& finished) {
  const int64_t k = g.window_size(), pixels = g.out_pixels(), image = g.in_pixels() * g.channels;
  // Image by image: the windows of one image overlap, those of different images never do.
  parallel_blocks(g.batch, 1, [&](int64_t n, int64_t) {
    const In* dy_image = dy + n * pixels * filters;
    Out* dx_image = dx + n * image;
    if (g.is_pointwise()) {
      conv_input_grad_product(dy_image, pixels, filters, w, k, dx_image);
    } else {
      Out* col = thread_scratch<Out, ScratchSlot::kPanel>(pixels * k);
      conv_input_grad_product(dy_image, pixels, filters, w, k, col);
      std::fill_n(dx_image, image, Out(0));
      col2im_add(col, g, dx_image);
    }
    if (finished) finished(n * image, (n + 1) * image);
  });
}

template <typename In, typename Out>
void conv2d_filter_grad(const In* x, const In* dy, const WindowGeometry& g, int64_t filters, Out* dw) {
  const int64_t rows = g.batch * g.out_pixels(), k = g.window_size();
  MatrixMap<Out> dW(dw, k, filters);
  if (rows == 0) {
    dW.setZero();
    return;
  }
  const int64_t chunks = (rows + kFilterGradRows - 1) / kFilterGradRows;
  std::vector<Out> partials(chunks > 1 ? chunks * k * filters : 0);
  parallel_blocks(rows, kFilterGradRows, [&](int64_t r0, int64_t r1) {
    const In* col = x + r0 * k;
    if (!g.is_pointwise()) {
      In* panel = thread_scratch<In, ScratchSlot::kPanel>((r1 - r0) * k);
      im2col(x, g, r0, r1, panel);
      col = panel;
    }
    Out* out = chunks > 1 ? partials.data() + (r0 / kFilterGradRows) * k * filters : dw;
    conv_filter_grad_product(col, r1 - r0, k, dy + r0 * filters, filters, out);
  });
  if (chunks == 1) return;
  dW = ConstMatrixMap<Out>(partials.data(), k, filters);
  for (int64_t c = 1; c < chunks; ++c) dW += ConstMatrixMap<Out>(partials.data() + c * k * filters, k, filters);
}

int64_t conv2d_scratch_bytes(const WindowGeometry& g, int64_t filters, int64_t input_size, int64_t output_size,
                             ConvPass pass) {
  const int64_t k = g.window_size(), rows = g.batch * g.out_pixels();
  switch (pass) {
    case ConvPass::kForward:
      return g.is_pointwise() ? 0 : std::min(rows, panel_rows(k, input_size)) * k * input_size;
    case ConvPass::kInputGrad: return g.is_pointwise() ? 0 : g.out_pixels() * k * output_size;
    default: {
      const int64_t chunk = std::min(rows, kFilterGradRows);
      // oneDNN's product (bfloat16, and float32 where oneDNN runs) copies dY's chunk
      // transposed and makes dW^T (ops/conv_gemms.cc).
      const int64_t transposed =
          output_size == 4 ? chunk * filters * input_size + k * filters * output_size : 0;
      return (g.is_pointwise() ? 0 : chunk * k * input_size) + transposed;
    }
  }
}

template void conv2d_forward<float, float>(const float*, const float*, const WindowGeometry&, int64_t, float*,
                                              const FinishedRange&);
template void conv2d_input_grad<float, float>(const float*, const float*, const WindowGeometry&, int64_t, float*,
                                                 const FinishedRange&);
template void conv2d_filter_grad<float, float>(const float*, const float*, const WindowGeometry&, int64_t, float*);
template void conv2d_forward<double, double>(const double*, const double*, const WindowGeometry&, int64_t, double*,
                                              const FinishedRange&);
template void conv2d_input_grad<double, double>(const double*, const double*, const WindowGeometry&, int64_t, double*,
                                                 const FinishedRange&);
template void conv2d_filter_grad<double, double>(const double*, const double*, const WindowGeometry&, int64_t, double*);
template void conv2d_forward<bfloat16, float>(const bfloat16*, const bfloat16*, const WindowGeometry&, int64_t, float*,
                                              const FinishedRange&);
template void conv2d_input_grad<bfloat16, float>(const bfloat16*, const bfloat16*, const WindowGeometry&, int64_t,
                                                 float*, const FinishedRange&);
template void conv2d_filter_grad<bfloat16, float>(const bfloat16*, const bfloat16*, const WindowGeometry&, int64_t,
                                                  float*);

}  // namespace horn::kernels
