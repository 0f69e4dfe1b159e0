#include "ops/window_geometry.h"

namespace horn::kernels {
namespace {

template <typename... Args>
[[noreturn]] void refuse(const ShapeContext* c, const Args&... args) {
  if (c) c->error(args...);
  fail(args...);
}

std::vector<int64_t> pair_attr(const AttrMap& attrs, const std::string& name, const ShapeContext* c) {
  std::vector<int64_t> v = attrs.get_or<std::vector<int64_t>>(name, {1, 1});
  if (v.size() != 2 || v[0] < 1 || v[1] < 1) refuse(c, name, " must be two positive numbers {h, w}, got ", Shape(v));
  return v;
}

// Output size and padding before, for one spatial dimension.
void window_1d(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same, const char* axis,
               const ShapeContext* c, int64_t* out, int64_t* pad_before) {
  const int64_t span = (k - 1) * dilation + 1;  // the dilated window
  *pad_before = 0;
  if (in < 0) {
    *out = -1;
    return;
  }
  if (same) {
    *out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((*out - 1) * stride + span - in, 0);
    *pad_before = total / 2;
    return;
  }
  if (span > in)
    refuse(c, "the window of ", span, " ", axis, " does not fit in the input's ", in, " with \"valid\" padding");
  *out = (in - span) / stride + 1;
}

}  // namespace

WindowGeometry window_geometry(const Shape& input, int64_t k_h, int64_t k_w, const AttrMap& attrs,
                               const ShapeContext* c) {
  if (input.rank() != 4) refuse(c, "needs an NHWC input of rank 4, got ", input);
  if (k_h < 1 || k_w < 1) refuse(c, "the window must be at least 1x1, got ", k_h, "x", k_w);
  const std::string& padding = attrs.get<std::string>("padding");
  if (padding != "valid" && padding != "same")
    refuse(c, "padding must be \"valid\" or \"same\", got \"", padding, "\"");
  const std::vector<int64_t> strides = pair_attr(attrs, "strides", c), dilations = pair_attr(attrs, "dilations", c);
  WindowGeometry g;
  g.batch = input.dim(0);
  g.in_h = input.dim(1);
  g.in_w = input.dim(2);
  g.channels = input.dim(3);
  g.k_h = k_h;
  g.k_w = k_w;
  g.stride_h = strides[0];
  g.stride_w = strides[1];
  g.dilation_h = dilations[0];
  g.dilation_w = dilations[1];
  const bool same = padding == "same";
  window_1d(g.in_h, k_h, g.stride_h, g.dilation_h, same, "rows", c, &g.out_h, &g.pad_top);
  window_1d(g.in_w, k_w, g.stride_w, g.dilation_w, same, "columns", c, &g.out_w, &g.pad_left);
  return g;
}

WindowGeometry window_geometry(const Shape& input, int64_t k_h, int64_t k_w, const AttrMap& attrs) {
  return window_geometry(input, k_h, k_w, attrs, nullptr);
}

AttrMap window_attrs(std::vector<int64_t> strides, const std::string& padding, std::vector<int64_t> dilations) {
  AttrMap attrs{{"strides", std::move(strides)}, {"padding", padding}};
  if (!dilations.empty()) attrs.set("dilations", std::move(dilations));
  return attrs;
}

}  // namespace horn::kernels
