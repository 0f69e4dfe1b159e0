// The brief's network on real MNIST (a subset, to keep CI fast): 20,000 training images,
// 2 epochs, evaluated on the full 10,000-image test set. Needs tools/get_mnist.sh to have
// run (tools/setup.sh does); fails, rather than skips, when the data is missing.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {

TEST(MnistEndToEnd, BriefNetworkLearnsWellAboveChance) {
  auto [train, test] = datasets::mnist::load_data();
  ASSERT_EQ(train.first.shape(), (Shape{60000, 28, 28}));
  ASSERT_EQ(test.first.shape(), (Shape{10000, 28, 28}));
  Tensor x_train = utils::flatten_and_scale(train.first, 1.0 / 255).slice_rows(0, 20000);
  Tensor y_train = utils::to_categorical(train.second, 10).slice_rows(0, 20000);
  Tensor x_test = utils::flatten_and_scale(test.first, 1.0 / 255);
  Tensor y_test = utils::to_categorical(test.second, 10);

  Sequential model;
  model.add(Dense({.input_dim = 784, .output_dim = 500}));
  model.add(Activation("sigmoid"));
  model.add(Dense(500, {.activation = "sigmoid"}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  History h = model.fit(x_train, y_train, {.batch_size = 100, .nb_epoch = 2, .verbose = 2});
  std::vector<double> score = model.evaluate(x_test, y_test);
  std::cout << "MNIST subset: test loss " << score[0] << ", test accuracy " << score[1] << "\n";
  EXPECT_GT(score[1], 0.90);
  EXPECT_LT(h.history["loss"][1], h.history["loss"][0]);
}

}  // namespace
}  // namespace horn::keras
