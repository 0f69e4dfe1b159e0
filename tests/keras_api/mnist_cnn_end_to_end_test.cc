// A small convolutional network with BatchNormalization on a slice of real MNIST: 2,000
// training images, one epoch, evaluated on 2,000 test images. Needs tools/get_mnist.sh to
// have run (tools/setup.sh does); fails, rather than skips, when the data is missing.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {

TEST(MnistCnnEndToEnd, SmallConvNetLearnsFromTwoThousandImages) {
  auto [train, test] = datasets::mnist::load_data();
  Tensor x_train = utils::to_nhwc_and_scale(train.first, 1.0 / 255).slice_rows(0, 2000);
  Tensor y_train = utils::to_categorical(train.second, 10).slice_rows(0, 2000);
  Tensor x_test = utils::to_nhwc_and_scale(test.first, 1.0 / 255).slice_rows(0, 2000);
  Tensor y_test = utils::to_categorical(test.second, 10).slice_rows(0, 2000);

  Sequential model;
  model.add(Conv2D(8, {3, 3}, {.use_bias = false, .input_shape = {28, 28, 1}}));  // 26x26x8
  // Momentum 0.9, not 0.99: after 125 steps the moving averages must have forgotten their
  // initial 0 and 1, or inference would normalise with them (0.99^125 = 28% left).
  model.add(BatchNormalization({.momentum = 0.9}));
  model.add(Activation("relu"));
  model.add(MaxPooling2D({.pool_size = {2, 2}}));                                  // 13x13x8
  model.add(Conv2D(16, {3, 3}, {.activation = "relu"}));                          // 11x11x16
  model.add(MaxPooling2D({.pool_size = {2, 2}}));                                  // 5x5x16
  model.add(Flatten());
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::Adam({.learning_rate = 0.003}),
                 .metrics = {"accuracy"}});
  History h = model.fit(x_train, y_train, {.batch_size = 16, .epochs = 1, .verbose = 2});
  std::vector<double> score = model.evaluate(x_test, y_test);
  std::cout << "MNIST CNN subset: train accuracy " << h.history["accuracy"][0] << ", test loss " << score[0]
            << ", test accuracy " << score[1] << "\n";
  EXPECT_GT(score[1], 0.85);  // 88.8% with the default seed
}

}  // namespace
}  // namespace horn::keras
