// Small models Horn trains and exports in the model-file tests (tfjs_format_test, h5_format_test):
// every activation TensorFlow.js shares with Horn, and a CNN with Conv2D, pooling, ZeroPadding2D
// and BatchNormalization.
#pragma once
#include <gtest/gtest.h>

#include "keras_api/keras.h"
#include "keras_api/model_file.h"
#include "tests/keras_api/tfjs_peer_util.h"

namespace horn::keras::test_models {

inline Sequential horn_mlp() {
  Sequential model(SequentialOptions{.name = "horn_mlp", .seed = 42});
  model.add(Dense(12, {.activation = "tanh", .input_shape = {5}}));
  model.add(Dense(10, {.activation = "relu", .kernel_initializer = "he_uniform"}));
  model.add(Dropout(0.2));
  model.add(Dense(8, {.activation = "elu"}));
  model.add(Dense(8, {.activation = "selu", .use_bias = false}));
  model.add(Dense(6, {.activation = "softplus"}));
  model.add(Activation("softsign"));
  model.add(Dense(6, {.activation = "hard_sigmoid"}));
  model.add(Dense(3, {.activation = "softmax"}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  return model;
}

inline Sequential horn_cnn() {
  Sequential model(SequentialOptions{.name = "horn_cnn", .seed = 7});
  model.add(Conv2D(4, 3, {.activation = "relu", .input_shape = {9, 8, 2}}));
  model.add(BatchNormalization({.momentum = 0.8}));
  model.add(ZeroPadding2D({{1, 0}, {0, 1}}));
  model.add(MaxPooling2D({.pool_size = {2, 2}}));
  model.add(Conv2D(5, {2, 3}, {.strides = {1, 2}, .padding = "same", .use_bias = false}));
  model.add(BatchNormalization({.epsilon = 0.01}));
  model.add(Activation("relu"));
  model.add(AveragePooling2D({.pool_size = {2, 2}, .strides = {1, 1}, .padding = "same"}));
  model.add(Flatten());
  model.add(Dense(3, {.activation = "softmax"}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::SGD({.learning_rate = 0.05, .momentum = 0.9})});
  return model;
}

inline Tensor random_tensor(const Shape& shape, uint64_t seed) { return Tensor::uniform(DType::kFloat32, shape, -1, 1, seed); }

inline Tensor one_hot_labels(int64_t n, int64_t classes) {
  std::vector<float> v(n * classes, 0);
  for (int64_t i = 0; i < n; ++i) v[i * classes + (i * 5 + 1) % classes] = 1;
  return Tensor(Shape{n, classes}, v);
}

// The compile settings of the TensorFlow.js MLP fixture (testdata/tfjs/mlp, and the .h5 written
// from it): Adam(0.01), categorical cross-entropy, accuracy.
inline void expect_fixture_mlp_compiled(Sequential& mlp) {
  ASSERT_TRUE(mlp.compiled());
  const ModelFile f = mlp.to_model_file();
  EXPECT_EQ(f.settings.at("loss"), "categorical_crossentropy");
  EXPECT_EQ(f.settings.at("metrics"), "accuracy");
  EXPECT_EQ(f.settings.at("optimizer"), "Adam");
  EXPECT_EQ(std::stod(f.settings.at("optimizer.learning_rate")), 0.01);
}

// What a Keras-style checker read from a saved file ("layers": [{"name", "weights": [{"shape",
// "data"}...]}...], tests/keras_api/keras_h5_check.py and keras_zip_check.py) equals `model`'s
// layers and weights, in Keras's order per layer, bitwise.
inline void expect_checker_read_the_weights(const nlohmann::json& layers, Sequential& model) {
  const std::vector<Tensor> horn = model.get_weights();
  size_t k = 0;
  ASSERT_EQ(layers.size(), model.layers().size());
  for (size_t l = 0; l < model.layers().size(); ++l) {
    EXPECT_EQ(layers[l]["name"], model.layers()[l]->name());
    for (const nlohmann::json& w : layers[l]["weights"]) {
      ASSERT_LT(k, horn.size());
      EXPECT_EQ(w["shape"].get<std::vector<int64_t>>(), horn[k].shape().dims());
      EXPECT_EQ(testing::max_abs_diff(testing::tensor_from_json(w), horn[k]), 0.0);
      ++k;
    }
  }
  EXPECT_EQ(k, horn.size());
}

}  // namespace horn::keras::test_models
