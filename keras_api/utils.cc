#include "keras_api/utils.h"

namespace horn::keras::utils {

Tensor to_categorical(const Tensor& labels, int64_t num_classes) {
  if (num_classes <= 0) fail("to_categorical: num_classes must be positive, got ", num_classes);
  if (labels.rank() != 1 && !(labels.rank() == 2 && labels.dim(1) == 1))
    fail("to_categorical: labels must have shape [N] or [N,1], got ", labels.shape());
  const int64_t n = labels.dim(0);
  Tensor out = Tensor::zeros(DType::kFloat32, {n, num_classes});
  float* o = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const double v = labels.value_as_double(i);
    if (v != static_cast<int64_t>(v) || v < 0 || v >= num_classes)
      fail("to_categorical: label ", v, " of sample ", i, " is outside 0..", num_classes - 1);
    o[i * num_classes + static_cast<int64_t>(v)] = 1;
  }
  return out;
}

Tensor flatten_and_scale(const Tensor& x, double scale) {
  if (x.rank() == 0) fail("flatten_and_scale: x is a scalar");
  const int64_t rows = x.dim(0);
  Tensor out = x.cast(DType::kFloat32);
  const float s = static_cast<float>(scale);
  for (float& v : out.flat<float>()) v *= s;
  return out.reshaped({rows, rows ? x.size() / rows : 0});
}

Tensor to_nhwc_and_scale(const Tensor& images, double scale) {
  if (images.rank() != 3)
    fail("to_nhwc_and_scale: images must have shape [N, rows, cols], got ", images.shape());
  return flatten_and_scale(images, scale).reshaped({images.dim(0), images.dim(1), images.dim(2), 1});
}

}  // namespace horn::keras::utils
