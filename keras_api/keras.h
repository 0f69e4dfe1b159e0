// Horn's Keras API. The whole MNIST tutorial, in C++:
//
//   #include "keras_api/keras.h"
//   using namespace horn::keras;
//
//   int main() {
//     // 1. Data: uint8 images [60000,28,28] and labels [60000], as keras.datasets.mnist.
//     auto [train, test] = datasets::mnist::load_data();
//     Tensor x_train = utils::flatten_and_scale(train.first, 1.0 / 255);  // [60000,784] float32
//     Tensor y_train = utils::to_categorical(train.second, 10);           // one-hot [60000,10]
//     Tensor x_test = utils::flatten_and_scale(test.first, 1.0 / 255);
//     Tensor y_test = utils::to_categorical(test.second, 10);
//
//     // 2. A set of functions: the network, built like blocks. Only the first layer states
//     //    its input size.
//     Sequential model;
//     model.add(Dense(500, {.input_dim = 784, .activation = "sigmoid"}));
//     model.add(Dense(500, {.activation = "sigmoid"}));
//     model.add(Dense(10, {.activation = "softmax"}));
//     // (Old spelling: model.add(Dense({.input_dim = 784, .output_dim = 500}));
//     //                model.add(Activation("sigmoid"));)
//
//     // 3. How good a function is (the loss), and how to pick the best (the optimizer).
//     model.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
//
//     // 4. Mini-batch gradient descent: shuffled batches of 100, 20 passes over the data.
//     History history = model.fit(x_train, y_train, {.batch_size = 100, .epochs = 20});
//
//     // 5. Judge, use, keep.
//     std::vector<double> score = model.evaluate(x_test, y_test);
//     std::cout << "Test loss: " << score[0] << "\nTest accuracy: " << score[1] << "\n";
//     Tensor probabilities = model.predict(x_test);  // [10000,10]
//     model.save("mnist_mlp.horn");
//     Sequential again = load_model("mnist_mlp.horn");
//   }
//
// Names and defaults follow Keras: activations ("relu", "softmax", ...), losses
// ("categorical_crossentropy", "mse", ...), optimizers ("sgd", "rmsprop", "adam", ... or
// objects such as optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9})), metrics
// ("accuracy"), callbacks (EarlyStopping, ModelCheckpoint, CSVLogger, TerminateOnNaN,
// LambdaCallback).
// Unknown names are errors that list the known ones.
//
// Where things are: sequential.h declares the model; its code is split by job into
// sequential.cc (add, build, compile, weights), sequential_validation.cc (checks on x and y),
// sequential_training.cc (fit, evaluate, predict), sequential_summary.cc and
// sequential_save_load.cc (what a .horn file holds; model_file.h is the format itself).
// Layers (layers.h: Dense, Dropout, ...; conv_layers.h: Conv2D and pooling over NHWC images;
// normalization.h: BatchNormalization), activations, initializers, losses, metrics,
// optimizers and callbacks each have a file of their own. examples/keras_mnist_cnn.cc is
// Keras's mnist_cnn.py.
#pragma once

#include "core/session.h"
#include "core/tensor.h"
#include "keras_api/activations.h"
#include "keras_api/callbacks.h"
#include "keras_api/conv_layers.h"
#include "keras_api/datasets/batches.h"
#include "keras_api/datasets/fashion_mnist.h"
#include "keras_api/datasets/mnist.h"
#include "keras_api/hdf5_limits.h"
#include "keras_api/initializers.h"
#include "keras_api/layers.h"
#include "keras_api/learning_rate_callbacks.h"
#include "keras_api/losses.h"
#include "keras_api/metrics.h"
#include "keras_api/mixed_precision.h"
#include "keras_api/normalization.h"
#include "keras_api/optimizers.h"
#include "keras_api/sequential.h"
#include "keras_api/utils.h"
#include "ops/eager.h"

namespace horn::keras {
using horn::DType;
using horn::Shape;
using horn::Tensor;
}  // namespace horn::keras
