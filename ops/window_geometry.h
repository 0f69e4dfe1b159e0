// Sliding windows over NHWC images (convolution and pooling), as TensorFlow defines them:
// "valid" padding keeps only the windows that fit; "same" gives ceil(in / stride) outputs and
// pads the shortfall, half before and the rest after (the extra one at the bottom/right).
//
// Attributes of the ops that use it: "strides" {h, w}, "padding" "valid" or "same", and
// "dilations" {h, w} (convolution only; default {1, 1}).
#pragma once
#include <string>

#include "core/op_registry.h"

namespace horn::kernels {

struct WindowGeometry {
  int64_t batch = 0, in_h = 0, in_w = 0, channels = 0;
  int64_t k_h = 1, k_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t out_h = 0, out_w = 0, pad_top = 0, pad_left = 0;

  int64_t out_pixels() const { return out_h * out_w; }
  int64_t in_pixels() const { return in_h * in_w; }
  // Elements of one im2col row: a window's values over every channel.
  int64_t window_size() const { return k_h * k_w * channels; }
  // A window that never reads padding and whose rows are contiguous in the input: 1x1,
  // stride 1, no padding (the input is its own im2col matrix).
  bool is_pointwise() const {
    return k_h == 1 && k_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0;
  }
};

// The geometry of `k_h` x `k_w` windows over an NHWC `input` shape, from the node's
// attributes. Dimensions unknown at build time (-1) give -1 outputs. Errors (through `c`
// when given) name the op and the node: bad strides, padding, dilations, or a window that
// does not fit with "valid" padding.
WindowGeometry window_geometry(const Shape& input, int64_t k_h, int64_t k_w, const AttrMap& attrs,
                               const ShapeContext* c);
// Same, for a kernel: the real shapes, checked at build time already.
WindowGeometry window_geometry(const Shape& input, int64_t k_h, int64_t k_w, const AttrMap& attrs);

// The attributes of a windowed op: strides, padding and (for convolutions) dilations.
AttrMap window_attrs(std::vector<int64_t> strides, const std::string& padding, std::vector<int64_t> dilations = {});

}  // namespace horn::kernels
