// Keras's BatchNormalization (Ioffe and Szegedy, 2015).
//
//   model.add(Conv2D(32, 3, {.use_bias = false, .input_shape = {28, 28, 1}}));
//   model.add(BatchNormalization());       // per channel: the last axis
//   model.add(Activation("relu"));
//
// Training (fit, train_on_batch) normalises with the batch's mean and biased variance over
// every axis but `axis`, then scales by gamma and shifts by beta; each training step also
// moves the moving averages towards the batch's statistics, as Keras 2.3 does:
//   moving_mean     -= (moving_mean - mean) * (1 - momentum)
//   moving_variance -= (moving_variance - variance * n / (n - (1 + epsilon))) * (1 - momentum)
// with n the number of values per feature in the batch (the factor is Keras's estimate of
// the unbiased variance; epsilon keeps n = 1 finite). Inference (evaluate, predict) uses the
// moving averages. Weights, in Keras's order: gamma, beta (trainable), moving_mean,
// moving_variance (not trainable; saved and restored with the rest).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "keras_api/layers.h"

namespace horn::keras {

struct BatchNormalizationOptions {
  int64_t axis = -1;  // the feature axis; -1: the last (channels of NHWC images)
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  std::string beta_initializer = "zeros";
  std::string gamma_initializer = "ones";
  std::string moving_mean_initializer = "zeros";
  std::string moving_variance_initializer = "ones";
  std::vector<int64_t> input_shape;
  std::string name;
};

class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(BatchNormalizationOptions options = {});
  template <KeywordArgument... K>
  explicit BatchNormalization(const K&... kw)
      : BatchNormalization(with_keywords<BatchNormalizationOptions>(kw...)) {}
  std::string type() const override { return "BatchNormalization"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  bool differs_in_training() const override { return true; }
  std::vector<Node*> updates() const override { return updates_; }
  std::vector<Output> weights() const override;
  std::vector<Output> trainable_weights() const override;
  LayerConfig config() const override;

 private:
  // (x - mean) / sqrt(variance + epsilon) * gamma + beta, with mean and variance shaped to
  // broadcast over x.
  Output normalize(Output x, Output mean, Output variance) const;
  // The feature axis of inputs [batch]+input_shape, batch axis included; throws when `axis`
  // names none.
  int64_t feature_axis(const Shape& input_shape) const;
  // A [features] vector shaped to broadcast along the feature axis of x.
  Output along_features(Output v) const;

  BatchNormalizationOptions options_;
  int64_t feature_axis_ = 0;  // in [1, rank) of x, batch axis included
  int64_t features_ = 0;
  int rank_ = 0;
  Output gamma_, beta_, moving_mean_, moving_variance_;
  std::vector<Node*> updates_;
};

// BatchNormalization from its saved config; nullptr for another layer type.
std::shared_ptr<Layer> normalization_layer_from_config(const LayerConfig& config);

}  // namespace horn::keras
