// Pooling over NHWC images with TensorFlow's windows (ops/window_geometry.h); attributes
// "ksize" {h, w}, "strides" {h, w}, "padding".
//   MaxPool2D; MaxPoolGrad(x, dy): the gradient goes to one maximum of each window, the first
//   in scan order (TensorFlow's rule for ties); MaxPoolGradGrad(x, g): g gathered at those
//   maxima. Each is the other's gradient, so second derivatives work.
//   AvgPool2D: "same" padding averages only the real elements, as TensorFlow does;
//   AvgPoolGrad(dy) (attribute "input_shape") is its adjoint, and AvgPool2D is AvgPoolGrad's.
#include <algorithm>
#include <limits>

#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"
#include "ops/window_geometry.h"

namespace horn::ops {
namespace {

using Grads = std::vector<Output>;
using kernels::WindowGeometry;

WindowGeometry pool_geometry(const Shape& x, const AttrMap& attrs, const ShapeContext* c = nullptr) {
  const std::vector<int64_t>& k = attrs.get<std::vector<int64_t>>("ksize");
  if (k.size() != 2) {
    if (c) c->error("ksize must be {h, w}, got ", Shape(k));
    fail("ksize must be {h, w}, got ", Shape(k));
  }
  return kernels::window_geometry(x, k[0], k[1], attrs, c);
}

Shape pooled(const WindowGeometry& g) { return Shape{g.batch, g.out_h, g.out_w, g.channels}; }

AttrMap pool_attrs(const Node& n, const Shape* input_shape = nullptr) {
  AttrMap a{{"ksize", n.attrs.get<std::vector<int64_t>>("ksize")},
            {"strides", n.attrs.get<std::vector<int64_t>>("strides")},
            {"padding", n.attrs.get<std::string>("padding")}};
  if (input_shape) a.set("input_shape", *input_shape);
  return a;
}

// Calls fn(n, oy, ox, taps) for every output pixel, in parallel over whole images (pooling
// gradients scatter into overlapping windows of one image), where taps(f) calls f(pixel)
// for each input pixel (iy * in_w + ix) of the window that lies inside the image, in scan
// order.
template <typename Fn>
void for_each_window(const WindowGeometry& g, Fn&& fn) {
  parallel_blocks(g.batch, 1, [&](int64_t n, int64_t) {
    for (int64_t oy = 0; oy < g.out_h; ++oy)
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        auto taps = [&](auto&& f) {
          for (int64_t ky = 0; ky < g.k_h; ++ky) {
            const int64_t iy = oy * g.stride_h - g.pad_top + ky;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int64_t kx = 0; kx < g.k_w; ++kx) {
              const int64_t ix = ox * g.stride_w - g.pad_left + kx;
              if (ix >= 0 && ix < g.in_w) f(iy * g.in_w + ix);
            }
          }
        };
        fn(n, oy, ox, taps);
      }
  });
}

// Gradients scatter into x-shaped zeros: each image's part is zeroed by the task that then
// scatters into it (for_each_window gives an image to one task), in parallel and while it
// is in cache, instead of one pass over the whole tensor on one thread first.
template <typename T>
void zero_image_at_first_window(T* dx, const WindowGeometry& g, int64_t n, int64_t oy, int64_t ox) {
  const int64_t image = g.in_pixels() * g.channels;
  if (oy == 0 && ox == 0) std::fill_n(dx + n * image, image, T(0));
}

// For each channel of an output pixel: the input pixel of its window's first maximum. The
// first tap initialises and the rest compare-select without branches, so the compiler
// vectorises over the channels; `Index` is int32 whenever an image's pixels fit, so the
// indexes fill a vector register as densely as float values.
template <typename T, typename Index, typename Taps>
void window_argmax(const T* image, int64_t channels, Taps&& taps, T* best, Index* at) {
  bool first = true;
  taps([&](int64_t pixel) {
    const T* in = image + pixel * channels;
    const Index p = static_cast<Index>(pixel);
    if (first) {
      std::copy_n(in, channels, best);
      std::fill_n(at, channels, p);
      first = false;
      return;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const bool greater = in[c] > best[c];
      best[c] = greater ? in[c] : best[c];
      at[c] = greater ? p : at[c];
    }
  });
}

template <typename T>
void max_pool(const Tensor& x, const WindowGeometry& g, Tensor& y) {
  const T* in = x.data<T>();
  T* out = y.data<T>();
  const int64_t c = g.channels;
  for_each_window(g, [&](int64_t n, int64_t oy, int64_t ox, auto&& taps) {
    kernels::MutArrayMap<T> o(out + ((n * g.out_h + oy) * g.out_w + ox) * c, c);
    const T* image = in + n * g.in_pixels() * c;
    bool first = true;
    taps([&](int64_t pixel) {
      kernels::ConstArrayMap<T> v(image + pixel * c, c);
      if (first) o = v;
      else o = o.max(v);
      first = false;
    });
  });
}

// dx (x's shape) from dy: MaxPoolGrad. `scatter` false: out (y's shape) = gathered g at the
// maxima: MaxPoolGradGrad.
// Windows that do not overlap (stride >= window: the usual 2x2 pooling) give each input pixel
// at most one window, so MaxPoolGrad writes dx directly, a select per channel, instead of
// zeroing it and scattering into it: one pass over dx instead of two. Where they also cover
// the whole image, nothing is zeroed first. Each element is 0 + dy or 0, as the scatter made it
// (0 + -0 is +0).
template <typename T, bool kScatter, typename Index>
void max_pool_route(const Tensor& x, const Tensor& grad, const WindowGeometry& g, Tensor& out) {
  const int64_t c = g.channels;
  const T* in = x.data<T>();
  const T* gr = grad.data<T>();
  T* o = out.data<T>();
  const bool disjoint = g.stride_h >= g.k_h && g.stride_w >= g.k_w;
  const bool tiles_image = disjoint && g.stride_h == g.k_h && g.stride_w == g.k_w && g.pad_top == 0 &&
                           g.pad_left == 0 && g.out_h * g.k_h == g.in_h && g.out_w * g.k_w == g.in_w;
  if (kScatter && g.out_h * g.out_w == 0) std::fill_n(o, out.size(), T(0));  // no window to do it
  for_each_window(g, [&](int64_t n, int64_t oy, int64_t ox, auto&& taps) {
    if (kScatter && !tiles_image) zero_image_at_first_window(o, g, n, oy, ox);
    thread_local std::vector<T> best;
    thread_local std::vector<Index> at;
    best.resize(c);
    at.resize(c);
    window_argmax(in + n * g.in_pixels() * c, c, taps, best.data(), at.data());
    const int64_t pooled_at = ((n * g.out_h + oy) * g.out_w + ox) * c, image_at = n * g.in_pixels() * c;
    if (kScatter && disjoint) {
      const Index* first = at.data();
      const T* dy = gr + pooled_at;
      taps([&](int64_t pixel) {
        T* dx = o + image_at + pixel * c;
        const Index p = static_cast<Index>(pixel);
        for (int64_t ch = 0; ch < c; ++ch) dx[ch] = first[ch] == p ? T(0) + dy[ch] : T(0);
      });
      return;
    }
    for (int64_t ch = 0; ch < c; ++ch) {
      if constexpr (kScatter) o[image_at + int64_t{at[ch]} * c + ch] += gr[pooled_at + ch];
      else o[pooled_at + ch] = gr[image_at + int64_t{at[ch]} * c + ch];
    }
  });
}

template <typename T, bool kScatter>
void max_pool_route(const Tensor& x, const Tensor& grad, const WindowGeometry& g, Tensor& out) {
  if (g.in_pixels() <= std::numeric_limits<int32_t>::max()) max_pool_route<T, kScatter, int32_t>(x, grad, g, out);
  else max_pool_route<T, kScatter, int64_t>(x, grad, g, out);
}

template <typename T>
void avg_pool(const Tensor& x, const WindowGeometry& g, Tensor& y) {
  const int64_t c = g.channels;
  const T* in = x.data<T>();
  T* out = y.data<T>();
  for_each_window(g, [&](int64_t n, int64_t oy, int64_t ox, auto&& taps) {
    kernels::MutArrayMap<T> o(out + ((n * g.out_h + oy) * g.out_w + ox) * c, c);
    o.setZero();
    int64_t count = 0;
    taps([&](int64_t pixel) {
      o += kernels::ConstArrayMap<T>(in + (n * g.in_pixels() + pixel) * c, c);
      ++count;
    });
    o /= T(count);
  });
}

template <typename T>
void avg_pool_grad(const Tensor& dy, const WindowGeometry& g, Tensor& dx) {
  const int64_t c = g.channels;
  const T* gr = dy.data<T>();
  T* out = dx.data<T>();
  if (g.out_h * g.out_w == 0) std::fill_n(out, dx.size(), T(0));  // no window to do it
  for_each_window(g, [&](int64_t n, int64_t oy, int64_t ox, auto&& taps) {
    zero_image_at_first_window(out, g, n, oy, ox);
    int64_t count = 0;
    taps([&](int64_t) { ++count; });
    const kernels::ConstArrayMap<T> d(gr + ((n * g.out_h + oy) * g.out_w + ox) * c, c);
    taps([&](int64_t pixel) { kernels::MutArrayMap<T>(out + (n * g.in_pixels() + pixel) * c, c) += d / T(count); });
  });
}

void check_pooled(ShapeContext& c, const WindowGeometry& g, const Shape& given, const char* what) {
  if (!pooled(g).is_compatible_with(given)) c.error(what, " has shape ", given, " but the pooling makes ", pooled(g));
}

void pool_shape(ShapeContext& c) {
  shape_fns::require_float(c, 0);
  c.set_output(c.input_dtypes[0], pooled(pool_geometry(c.input_shapes[0], c.attrs(), &c)));
}

// (x, dy) -> dx like x.
void max_pool_grad_shape(ShapeContext& c) {
  shape_fns::require_float(c, 0);
  shape_fns::require_same_dtype(c, 0, 1);
  check_pooled(c, pool_geometry(c.input_shapes[0], c.attrs(), &c), c.input_shapes[1], "the output gradient");
  c.set_output(c.input_dtypes[0], c.input_shapes[0]);
}

// (x, g like x) -> pooled.
void max_pool_grad_grad_shape(ShapeContext& c) {
  shape_fns::require_float(c, 0);
  shape_fns::require_same_dtype(c, 0, 1);
  if (!c.input_shapes[0].is_compatible_with(c.input_shapes[1]))
    c.error("the gradient ", c.input_shapes[1], " must be shaped like the input ", c.input_shapes[0]);
  c.set_output(c.input_dtypes[0], pooled(pool_geometry(c.input_shapes[0], c.attrs(), &c)));
}

Shape avg_grad_input_shape(const AttrMap& attrs, const Shape& dy) {
  const Shape& s = attrs.get<Shape>("input_shape");
  return Shape{dy.rank() == 4 ? dy.dim(0) : -1, s.dim(1), s.dim(2), s.dim(3)};
}

void avg_pool_grad_shape(ShapeContext& c) {
  shape_fns::require_float(c, 0);
  if (c.attrs().get<Shape>("input_shape").rank() != 4) c.error("input_shape must be NHWC");
  const Shape x = avg_grad_input_shape(c.attrs(), c.input_shapes[0]);
  check_pooled(c, pool_geometry(x, c.attrs(), &c), c.input_shapes[0], "the output gradient");
  c.set_output(c.input_dtypes[0], x);
}

template <typename Fn>
std::function<void(KernelContext&)> float_kernel(Fn fn) {
  return [fn](KernelContext& k) { kernels::dispatch_float(k.input(0).dtype(), [&](auto v) { fn(k, v); }); };
}

HORN_REGISTER_OP({
    .name = "MaxPool2D", .num_inputs = 1,
    .shape_fn = pool_shape,
    .kernel = float_kernel([](KernelContext& k, auto v) {
      max_pool<decltype(v)>(k.input(0), pool_geometry(k.input(0).shape(), k.attrs()), k.output());
    }),
    .gradient = [](Node& n, const Grads& g) -> Grads {
      return {n.graph->add_node("MaxPoolGrad", {n.inputs[0], g[0]}, pool_attrs(n))->output()};
    },
});

HORN_REGISTER_OP({
    .name = "MaxPoolGrad", .num_inputs = 2,
    .shape_fn = max_pool_grad_shape,
    .kernel = float_kernel([](KernelContext& k, auto v) {
      max_pool_route<decltype(v), true>(k.input(0), k.input(1), pool_geometry(k.input(0).shape(), k.attrs()),
                                        k.output());
    }),
    // Piecewise constant in x (the maxima move only at ties): no gradient flows to x.
    .gradient = [](Node& n, const Grads& g) -> Grads {
      return {Output{}, n.graph->add_node("MaxPoolGradGrad", {n.inputs[0], g[0]}, pool_attrs(n))->output()};
    },
});

HORN_REGISTER_OP({
    .name = "MaxPoolGradGrad", .num_inputs = 2,
    .shape_fn = max_pool_grad_grad_shape,
    .kernel = float_kernel([](KernelContext& k, auto v) {
      max_pool_route<decltype(v), false>(k.input(0), k.input(1), pool_geometry(k.input(0).shape(), k.attrs()),
                                         k.output());
    }),
    .gradient = [](Node& n, const Grads& g) -> Grads {
      return {Output{}, n.graph->add_node("MaxPoolGrad", {n.inputs[0], g[0]}, pool_attrs(n))->output()};
    },
});

HORN_REGISTER_OP({
    .name = "AvgPool2D", .num_inputs = 1,
    .shape_fn = pool_shape,
    .kernel = float_kernel([](KernelContext& k, auto v) {
      avg_pool<decltype(v)>(k.input(0), pool_geometry(k.input(0).shape(), k.attrs()), k.output());
    }),
    .gradient = [](Node& n, const Grads& g) -> Grads {
      const Shape x = n.inputs[0].shape();
      return {n.graph->add_node("AvgPoolGrad", {g[0]}, pool_attrs(n, &x))->output()};
    },
});

HORN_REGISTER_OP({
    .name = "AvgPoolGrad", .num_inputs = 1,
    .shape_fn = avg_pool_grad_shape,
    .kernel = float_kernel([](KernelContext& k, auto v) {
      avg_pool_grad<decltype(v)>(k.input(0), pool_geometry(k.output().shape(), k.attrs()), k.output());
    }),
    .gradient = [](Node& n, const Grads& g) -> Grads {
      return {n.graph->add_node("AvgPool2D", {g[0]}, pool_attrs(n))->output()};
    },
});

AttrMap new_pool_attrs(std::vector<int64_t> ksize, std::vector<int64_t> strides, const std::string& padding) {
  if (strides.empty()) strides = ksize;  // Keras: strides None means the pool size
  return {{"ksize", std::move(ksize)}, {"strides", std::move(strides)}, {"padding", padding}};
}

}  // namespace

Output MaxPool2D(Output x, std::vector<int64_t> ksize, std::vector<int64_t> strides, const std::string& padding,
                 Name name) {
  return x.graph().add_node("MaxPool2D", {x}, new_pool_attrs(ksize, strides, padding), name)->output();
}

Output AvgPool2D(Output x, std::vector<int64_t> ksize, std::vector<int64_t> strides, const std::string& padding,
                 Name name) {
  return x.graph().add_node("AvgPool2D", {x}, new_pool_attrs(ksize, strides, padding), name)->output();
}

Output MaxPoolGrad(Output x, Output dy, std::vector<int64_t> ksize, std::vector<int64_t> strides,
                   const std::string& padding) {
  return x.graph().add_node("MaxPoolGrad", {x, dy}, new_pool_attrs(ksize, strides, padding))->output();
}

Output AvgPoolGrad(Output dy, const Shape& input_shape, std::vector<int64_t> ksize, std::vector<int64_t> strides,
                   const std::string& padding) {
  AttrMap attrs = new_pool_attrs(ksize, strides, padding);
  attrs.set("input_shape", input_shape);
  return dy.graph().add_node("AvgPoolGrad", {dy}, std::move(attrs))->output();
}

}  // namespace horn::ops
