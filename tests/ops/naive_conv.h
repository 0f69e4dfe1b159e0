// A direct (naive) convolution in double, straight from TensorFlow's definition: the
// reference the convolution kernels are checked against.
#pragma once
#include <algorithm>

#include "core/tensor.h"

namespace horn::testing {

// NHWC x, HWIO w; strides (sh, sw), "same" or "valid" padding, dilations (dh, dw).
inline Tensor naive_conv(const Tensor& x, const Tensor& w, int sh, int sw, bool same, int dh, int dw) {
  const int64_t n = x.dim(0), h = x.dim(1), wd = x.dim(2), c = x.dim(3);
  const int64_t kh = w.dim(0), kw = w.dim(1), f = w.dim(3);
  const int64_t eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
  const int64_t oh = same ? (h + sh - 1) / sh : (h - eh) / sh + 1, ow = same ? (wd + sw - 1) / sw : (wd - ew) / sw + 1;
  const int64_t pt = same ? std::max<int64_t>((oh - 1) * sh + eh - h, 0) / 2 : 0;
  const int64_t pl = same ? std::max<int64_t>((ow - 1) * sw + ew - wd, 0) / 2 : 0;
  Tensor y(DType::kFloat64, {n, oh, ow, f});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t o = 0; o < f; ++o) {
          double acc = 0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              for (int64_t i = 0; i < c; ++i)
                acc += x.value_as_double(((b * h + iy) * wd + ix) * c + i) * w.value_as_double(((ky * kw + kx) * c + i) * f + o);
            }
          y.data<double>()[((b * oh + oy) * ow + ox) * f + o] = acc;
        }
  return y;
}

}  // namespace horn::testing
