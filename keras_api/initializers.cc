#include "keras_api/initializers.h"

#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "keras_api/names.h"

namespace horn::keras::initializers {

const std::vector<std::string>& names() {
  static const std::vector<std::string> known = {
      "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
      "ones",          "random_normal",  "random_uniform", "truncated_normal", "zeros"};
  return known;
}

void validate(const std::string& name) {
  if (std::find(names().begin(), names().end(), name) == names().end())
    unknown_name("initializer", name, names());
}

namespace {

// Keras's variance-scaling truncated normal: the 0.8796... factor is the stddev of a unit
// normal truncated at two standard deviations, so the result has variance `variance`.
Tensor scaled_truncated_normal(const Shape& shape, double variance, uint64_t seed, DType dtype) {
  return Tensor::truncated_normal(DType::kFloat64, shape, 0, std::sqrt(variance) / 0.87962566103423978, seed)
      .cast(dtype);
}

}  // namespace

Tensor make(const std::string& name, const Shape& shape, uint64_t seed, DType dtype) {
  validate(name);
  double fan_in = 1, fan_out = 1;
  if (shape.rank() >= 2) {
    double receptive = 1;
    for (int i = 0; i < shape.rank() - 2; ++i) receptive *= shape.dim(i);
    fan_in = shape.dim(-2) * receptive;
    fan_out = shape.dim(-1) * receptive;
  } else if (shape.rank() == 1) {
    fan_in = fan_out = shape.dim(0);
  }
  if (name == "zeros") return Tensor::zeros(dtype, shape);
  if (name == "ones") return Tensor::ones(dtype, shape);
  if (name == "random_uniform") return Tensor::uniform(dtype, shape, -0.05, 0.05, seed);
  if (name == "random_normal") return Tensor::normal(dtype, shape, 0, 0.05, seed);
  if (name == "glorot_uniform") {
    const double limit = std::sqrt(6 / (fan_in + fan_out));
    return Tensor::uniform(dtype, shape, -limit, limit, seed);
  }
  if (name == "he_uniform") {
    const double limit = std::sqrt(6 / fan_in);
    return Tensor::uniform(dtype, shape, -limit, limit, seed);
  }
  if (name == "lecun_uniform") {
    const double limit = std::sqrt(3 / fan_in);
    return Tensor::uniform(dtype, shape, -limit, limit, seed);
  }
  if (name == "truncated_normal") return Tensor::truncated_normal(dtype, shape, 0, 0.05, seed);
  if (name == "glorot_normal") return scaled_truncated_normal(shape, 2 / (fan_in + fan_out), seed, dtype);
  if (name == "he_normal") return scaled_truncated_normal(shape, 2 / fan_in, seed, dtype);
  return scaled_truncated_normal(shape, 1 / fan_in, seed, dtype);  // lecun_normal
}

}  // namespace horn::keras::initializers
