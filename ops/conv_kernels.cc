#include "ops/conv_kernels.h"

#include <vector>

namespace horn::kernels {
namespace {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;

// An im2col panel of about this many bytes stays in L2 for the GEMM that reads it; more
// rows per panel make the GEMM itself more efficient.
constexpr int64_t kPanelBytes = 512 << 10;
// Below this many taps a GEMM is mostly packing: the product is a few broadcast FMAs per
// output row instead (the first layer of an image model: 3x3 taps over 1 or 3 channels).
constexpr int64_t kDirectTaps = 32;

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

// Y [rows, F] = col [rows, K] x W [K, F]: Eigen's GEMM, or for a handful of taps, each output
// row as K broadcast multiply-adds of W's rows (the same for any panel: fixed per row).
template <typename T>
void panel_product(const T* col, int64_t rows, int64_t k, const T* w, int64_t filters, T* y) {
  if (k >= kDirectTaps) {
    MatrixMap<T>(y, rows, filters).noalias() = ConstMatrixMap<T>(col, rows, k) * ConstMatrixMap<T>(w, k, filters);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    MutArrayMap<T> out(y + r * filters, filters);
    const T* taps = col + r * k;
    out = ConstArrayMap<T>(w, filters) * taps[0];
    for (int64_t t = 1; t < k; ++t) out += ConstArrayMap<T>(w + t * filters, filters) * taps[t];
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

template <typename T>
void conv2d_forward(const T* x, const T* w, const WindowGeometry& g, int64_t filters, T* y,
                    const FinishedRange& finished) {
  const int64_t rows = g.batch * g.out_pixels(), k = g.window_size();
  parallel_blocks(rows, panel_rows(k, sizeof(T)), [&](int64_t r0, int64_t r1) {
    const T* col = x + r0 * k;  // a pointwise convolution reads its input as it is
    if (!g.is_pointwise()) {
      T* panel = thread_scratch<T, ScratchSlot::kPanel>((r1 - r0) * k);
      im2col(x, g, r0, r1, panel);
      col = panel;
    }
    panel_product(col, r1 - r0, k, w, filters, y + r0 * filters);
    if (finished) finished(r0 * filters, r1 * filters);
  });
}

template <typename T>
void conv2d_input_grad(const T* dy, const T* w, const WindowGeometry& g, int64_t filters, T* dx,
                       const FinishedRange& finished) {
  const int64_t k = g.window_size(), pixels = g.out_pixels(), image = g.in_pixels() * g.channels;
  const ConstMatrixMap<T> W(w, k, filters);
  // Image by image: the windows of one image overlap, those of different images never do.
  parallel_blocks(g.batch, 1, [&](int64_t n, int64_t) {
    const ConstMatrixMap<T> dY(dy + n * pixels * filters, pixels, filters);
    T* dx_image = dx + n * image;
    if (g.is_pointwise()) {
      MatrixMap<T>(dx_image, pixels, k).noalias() = dY * W.transpose();
    } else {
      T* col = thread_scratch<T, ScratchSlot::kPanel>(pixels * k);
      MatrixMap<T>(col, pixels, k).noalias() = dY * W.transpose();
      std::fill_n(dx_image, image, T(0));
      col2im_add(col, g, dx_image);
    }
    if (finished) finished(n * image, (n + 1) * image);
  });
}

template <typename T>
void conv2d_filter_grad(const T* x, const T* dy, const WindowGeometry& g, int64_t filters, T* dw) {
  const int64_t rows = g.batch * g.out_pixels(), k = g.window_size();
  MatrixMap<T> dW(dw, k, filters);
  if (rows == 0) {
    dW.setZero();
    return;
  }
  const int64_t chunks = (rows + kFilterGradRows - 1) / kFilterGradRows;
  std::vector<T> partials(chunks > 1 ? chunks * k * filters : 0);
  parallel_blocks(rows, kFilterGradRows, [&](int64_t r0, int64_t r1) {
    const T* col = x + r0 * k;
    if (!g.is_pointwise()) {
      T* panel = thread_scratch<T, ScratchSlot::kPanel>((r1 - r0) * k);
      im2col(x, g, r0, r1, panel);
      col = panel;
    }
    T* out = chunks > 1 ? partials.data() + (r0 / kFilterGradRows) * k * filters : dw;
    MatrixMap<T>(out, k, filters).noalias() =
        ConstMatrixMap<T>(col, r1 - r0, k).transpose() * ConstMatrixMap<T>(dy + r0 * filters, r1 - r0, filters);
  });
  if (chunks == 1) return;
  dW = ConstMatrixMap<T>(partials.data(), k, filters);
  for (int64_t c = 1; c < chunks; ++c) dW += ConstMatrixMap<T>(partials.data() + c * k * filters, k, filters);
}

int64_t conv2d_scratch_bytes(const WindowGeometry& g, int64_t filters, int64_t element_size, ConvPass pass) {
  (void)filters;
  if (g.is_pointwise()) return 0;
  const int64_t k = g.window_size(), rows = g.batch * g.out_pixels();
  switch (pass) {
    case ConvPass::kForward: return std::min(rows, panel_rows(k, element_size)) * k * element_size;
    case ConvPass::kInputGrad: return g.out_pixels() * k * element_size;
    default: return std::min(rows, kFilterGradRows) * k * element_size;
  }
}

template void conv2d_forward<float>(const float*, const float*, const WindowGeometry&, int64_t, float*,
                                    const FinishedRange&);
template void conv2d_forward<double>(const double*, const double*, const WindowGeometry&, int64_t, double*,
                                     const FinishedRange&);
template void conv2d_input_grad<float>(const float*, const float*, const WindowGeometry&, int64_t, float*,
                                       const FinishedRange&);
template void conv2d_input_grad<double>(const double*, const double*, const WindowGeometry&, int64_t, double*,
                                        const FinishedRange&);
template void conv2d_filter_grad<float>(const float*, const float*, const WindowGeometry&, int64_t, float*);
template void conv2d_filter_grad<double>(const double*, const double*, const WindowGeometry&, int64_t, double*);

}  // namespace horn::kernels
