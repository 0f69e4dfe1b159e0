// The models the benchmarks train, defined once for //bench:ops and //bench:profile_train_step.
// examples/ spell them out again on purpose: there they read line by line like Keras's scripts.
#pragma once
#include <string>

#include "keras_api/keras.h"

namespace horn::bench {

// The brief's model: 784-500 sigmoid-500 sigmoid-10 softmax, Adam, batch 100; `policy`:
// "float32" or "mixed_bfloat16" (keras_api/mixed_precision.h).
inline keras::Sequential seed_mlp(int threads, bool check_numerics = false, const std::string& policy = "float32") {
  using namespace keras;
  Sequential m({.num_threads = threads, .check_numerics = check_numerics});
  m.add(Dense(500, {.input_dim = 784, .activation = "sigmoid", .dtype = policy}));
  m.add(Dense(500, {.activation = "sigmoid", .dtype = policy}));
  m.add(Dense(10, {.activation = "softmax", .dtype = policy}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  return m;
}

// Keras's examples/mnist_cnn.py: Adadelta, batch 128.
inline keras::Sequential mnist_cnn(int threads) {
  using namespace keras;
  Sequential m({.num_threads = threads});
  m.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  m.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  m.add(MaxPooling2D({.pool_size = {2, 2}}));
  m.add(Dropout(0.25));
  m.add(Flatten());
  m.add(Dense(128, {.activation = "relu"}));
  m.add(Dropout(0.5));
  m.add(Dense(10, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::Adadelta(), .metrics = {"accuracy"}});
  return m;
}

// One-hot targets cycling through the ten classes.
inline Tensor cycling_one_hot(int64_t batch) {
  Tensor y = Tensor::zeros(DType::kFloat32, {batch, 10});
  for (int64_t i = 0; i < batch; ++i) y.at<float>({i, i % 10}) = 1;
  return y;
}

}  // namespace horn::bench
