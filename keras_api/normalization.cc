#include "keras_api/normalization.h"

#include <cmath>

#include "core/attr.h"
#include "core/random.h"
#include "keras_api/initializers.h"
#include "keras_api/layer_config.h"
#include "ops/ops.h"

namespace horn::keras {

BatchNormalization::BatchNormalization(BatchNormalizationOptions options) : options_(std::move(options)) {
  if (!(options_.momentum >= 0 && options_.momentum <= 1))
    fail("BatchNormalization: momentum must be in [0, 1], got ", options_.momentum);
  if (!(options_.epsilon > 0 && std::isfinite(options_.epsilon)))
    fail("BatchNormalization: epsilon must be positive, got ", options_.epsilon);
  for (const std::string* init : {&options_.beta_initializer, &options_.gamma_initializer,
                                  &options_.moving_mean_initializer, &options_.moving_variance_initializer})
    initializers::validate(*init);
  name_ = options_.name;
  input_shape_ = layer_config::optional_shape(options_.input_shape);
}

int64_t BatchNormalization::feature_axis(const Shape& input_shape) const {
  const int64_t rank = input_shape.rank() + 1;
  const int64_t axis = options_.axis < 0 ? options_.axis + rank : options_.axis;
  if (axis < 1 || axis >= rank)
    fail("BatchNormalization '", name_, "': axis ", options_.axis,
         " is not a feature axis of inputs [batch]+", input_shape, " (expected one of 1..", rank - 1,
         " or -1..", 1 - rank, ")");
  return axis;
}

LayerShapes BatchNormalization::shapes(const Shape& input_shape) const {
  const Shape features{input_shape.dim(static_cast<int>(feature_axis(input_shape) - 1))};
  LayerShapes s{.output = input_shape};
  if (options_.scale) s.weights.push_back({"gamma", features});
  if (options_.center) s.weights.push_back({"beta", features});
  s.weights.push_back({"moving_mean", features});
  s.weights.push_back({"moving_variance", features});
  return s;
}

Shape BatchNormalization::build(Graph& g, const Shape& input_shape, uint64_t seed) {
  const LayerShapes s = shapes(input_shape);
  rank_ = input_shape.rank() + 1;
  feature_axis_ = feature_axis(input_shape);
  features_ = s.weights.back().shape.dim(0);
  Graph::NameScope scope(g, name_);
  // Seeds stay per weight (gamma 0, beta 1, ...) whether or not scale and center are on.
  auto variable = [&](const std::string& initializer, const std::string& name, uint64_t k) {
    const bool moving = k >= 2;  // the moving statistics change by update ops, not gradients
    return add_weight(g, {name, Shape{features_}}, initializer, random::mix64(seed + k), !moving);
  };
  if (options_.scale) gamma_ = variable(options_.gamma_initializer, "gamma", 0);
  if (options_.center) beta_ = variable(options_.beta_initializer, "beta", 1);
  moving_mean_ = variable(options_.moving_mean_initializer, "moving_mean", 2);
  moving_variance_ = variable(options_.moving_variance_initializer, "moving_variance", 3);
  return output_shape_ = s.output;
}

Output BatchNormalization::along_features(Output v) const {
  if (feature_axis_ == rank_ - 1) return v;  // [features] broadcasts along the last axis
  std::vector<int64_t> dims(rank_ - feature_axis_, 1);
  dims[0] = features_;
  return ops::Reshape(v, Shape(dims));
}

Output BatchNormalization::normalize(Output x, Output mean, Output variance) const {
  Output y = (x - mean) / ops::Sqrt(variance + options_.epsilon);
  if (gamma_.valid()) y = y * along_features(gamma_);
  if (beta_.valid()) y = y + along_features(beta_);
  return y;
}

Output BatchNormalization::call(Output x, bool training) {
  Graph::NameScope scope(x.graph(), name_);
  if (!training) return normalize(x, along_features(moving_mean_), along_features(moving_variance_));
  std::vector<int64_t> axes;
  for (int64_t a = 0; a < rank_; ++a)
    if (a != feature_axis_) axes.push_back(a);
  Output mean = ops::Mean(x, axes, true, "mean");
  Output variance = ops::Mean(ops::Square(x - mean), axes, true, "variance");
  Output y = normalize(x, mean, variance);

  // n = values per feature in this batch, known only when the batch is fed.
  Output n = ops::Size(x, x.dtype()) / static_cast<double>(features_);
  Output unbiased = variance * (n / (n - (1 + options_.epsilon)));
  const double decay = 1 - options_.momentum;
  auto move_towards = [&](Output moving, Output batch_value) {
    return ops::AssignSub(moving, (moving - ops::Reshape(batch_value, {features_})) * decay).node;
  };
  updates_ = {move_towards(moving_mean_, mean), move_towards(moving_variance_, unbiased)};
  return y;
}

std::vector<Output> BatchNormalization::weights() const {
  std::vector<Output> w = trainable_weights();
  w.push_back(moving_mean_);
  w.push_back(moving_variance_);
  return w;
}

std::vector<Output> BatchNormalization::trainable_weights() const {
  std::vector<Output> w;
  if (gamma_.valid()) w.push_back(gamma_);
  if (beta_.valid()) w.push_back(beta_);
  return w;
}

LayerConfig BatchNormalization::config() const {
  LayerConfig c = Layer::config();
  c["axis"] = std::to_string(options_.axis);
  c["momentum"] = exact_double_string(options_.momentum);  // reloads bitwise equal
  c["epsilon"] = exact_double_string(options_.epsilon);
  c["center"] = options_.center ? "1" : "0";
  c["scale"] = options_.scale ? "1" : "0";
  c["beta_initializer"] = options_.beta_initializer;
  c["gamma_initializer"] = options_.gamma_initializer;
  c["moving_mean_initializer"] = options_.moving_mean_initializer;
  c["moving_variance_initializer"] = options_.moving_variance_initializer;
  return c;
}

std::shared_ptr<Layer> normalization_layer_from_config(const LayerConfig& c) {
  using layer_config::value;
  if (value(c, "type") != "BatchNormalization") return nullptr;
  return std::make_shared<BatchNormalization>(
      BatchNormalizationOptions{.axis = std::stoll(value(c, "axis")),
                                .momentum = std::stod(value(c, "momentum")),
                                .epsilon = std::stod(value(c, "epsilon")),
                                .center = value(c, "center") == "1",
                                .scale = value(c, "scale") == "1",
                                .beta_initializer = value(c, "beta_initializer"),
                                .gamma_initializer = value(c, "gamma_initializer"),
                                .moving_mean_initializer = value(c, "moving_mean_initializer"),
                                .moving_variance_initializer = value(c, "moving_variance_initializer"),
                                .input_shape = layer_config::input_shape(c),
                                .name = value(c, "name")});
}

}  // namespace horn::keras
