// fit's sample_weight and class_weight: the training loss is mean(weight * per-sample loss),
// checked against hand-computed losses and SGD updates; metrics and validation stay unweighted.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

// y = w x with w = 1 and no bias; targets 0: the per-sample mse is x^2 w^2, its gradient
// 2 x^2 w.
Sequential one_weight() {
  Sequential m;
  m.add(Dense(1, {.input_dim = 1, .use_bias = false, .kernel_initializer = "ones"}));
  m.compile({.loss = "mse", .optimizer = optimizers::SGD(0.1)});
  return m;
}
const Tensor kX(Shape{2, 1}, std::vector<float>{1, 2}), kY(Shape{2, 1}, std::vector<float>{0, 0});
float weight(Sequential& m) { return m.get_weights()[0].data<float>()[0]; }

TEST(SampleWeights, LossAndStepAreTheWeightedMeanOverTheBatch) {
  Sequential m = one_weight();
  const Tensor w(Shape{2}, std::vector<float>{3, 0.5});
  const History h = m.fit(kX, kY, {.batch_size = 2, .epochs = 1, .verbose = 0, .shuffle = false, .sample_weight = w});
  // loss = (3 * 1 + 0.5 * 4) / 2 = 2.5; dL/dw = (3 * 2 + 0.5 * 8) / 2 = 5; w = 1 - 0.1 * 5.
  EXPECT_FLOAT_EQ(h.history.at("loss")[0], 2.5f);
  EXPECT_FLOAT_EQ(weight(m), 0.5f);
  // Unweighted, the same data: loss (1 + 4) / 2, dL/dw = (2 + 8) / 2.
  Sequential plain = one_weight();
  EXPECT_FLOAT_EQ(plain.fit(kX, kY, {.batch_size = 2, .verbose = 0}).history.at("loss")[0], 2.5f);
  EXPECT_FLOAT_EQ(weight(plain), 0.5f);
  // Weights of zero and one: the first sample alone, divided by the batch size (Keras's
  // SUM_OVER_BATCH_SIZE): loss 0.5, dL/dw = 1.
  Sequential half = one_weight();
  half.fit(kX, kY, {.batch_size = 2, .verbose = 0, .sample_weight = Tensor(Shape{2}, std::vector<float>{1, 0})});
  EXPECT_FLOAT_EQ(weight(half), 0.9f);
  // evaluate stays unweighted.
  EXPECT_FLOAT_EQ(half.evaluate(kX, kY, {.verbose = 0})[0], (0.81f + 4 * 0.81f) / 2);
}

// Shuffled batches carry their samples' weights: a weight of zero on every sample but one
// trains on that sample alone, whatever the order.
TEST(SampleWeights, FollowTheirSamplesThroughShuffling) {
  Sequential m = one_weight();
  const Tensor x(Shape{4, 1}, std::vector<float>{1, 2, 3, 4}), y = Tensor::zeros(DType::kFloat32, {4, 1});
  const Tensor w(Shape{4}, std::vector<float>{0, 0, 1, 0});
  m.fit(x, y, {.batch_size = 4, .epochs = 1, .verbose = 0, .shuffle = true, .seed = 7, .sample_weight = w});
  EXPECT_FLOAT_EQ(weight(m), 1.0f - 0.1f * (2 * 9 * 1.0f) / 4);
}

TEST(ClassWeights, EachSampleWeighsItsClass) {
  // Two samples of the classes 1 and 0 (one-hot), softmax over two logits that start equal:
  // each per-sample loss is log 2, so the loss is (5 log 2 + 1 log 2) / 2.
  auto model = [] {
    Sequential m;
    m.add(Dense(2, {.input_dim = 1, .activation = "softmax", .kernel_initializer = "zeros"}));
    m.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::SGD(0.0)});
    return m;
  };
  const Tensor x(Shape{2, 1}, std::vector<float>{1, 1});
  const Tensor onehot(Shape{2, 2}, std::vector<float>{0, 1, 1, 0});
  using namespace kw;
  Sequential m = model();
  // A braced {class: weight} list is ambiguous after `class_weight =` (it also reads as a list
  // of strings); the map type, or the designated form below, says which.
  const History h =
      m.fit(x, onehot, batch_size = 2, verbose = 0, class_weight = std::map<int64_t, double>{{0, 1.0}, {1, 5.0}});
  EXPECT_NEAR(h.history.at("loss")[0], 3 * std::log(2.0), 1e-6);
  // Integer labels with a sparse loss: the same.
  Sequential sparse;
  sparse.add(Dense(2, {.input_dim = 1, .activation = "softmax", .kernel_initializer = "zeros"}));
  sparse.compile({.loss = "sparse_categorical_crossentropy", .optimizer = optimizers::SGD(0.0)});
  const Tensor labels(Shape{2}, std::vector<float>{1, 0});
  EXPECT_NEAR(sparse.fit(x, labels, {.batch_size = 2, .verbose = 0, .class_weight = {{0, 1.0}, {1, 5.0}}})
                  .history.at("loss")[0],
              3 * std::log(2.0), 1e-6);

  expect_error([&] { model().fit(x, onehot, {.verbose = 0, .class_weight = {{0, 1.0}}}); },
               {"class_weight", "no weight for class 1"});
  expect_error([&] { model().fit(x, onehot, {.verbose = 0, .class_weight = {{0, -1.0}, {1, 1.0}}}); },
               {"class_weight", "class 0", "-1", ">= 0"});
  expect_error(
      [&] {
        model().fit(x, onehot, {.verbose = 0, .sample_weight = Tensor(Shape{2}, std::vector<float>{1, 1}),
                                .class_weight = {{0, 1.0}, {1, 1.0}}});
      },
      {"sample_weight or class_weight, not both"});
}

TEST(SampleWeights, BadWeightsAreRefusedBeforeTraining) {
  Sequential m = one_weight();
  expect_error([&] { m.fit(kX, kY, {.verbose = 0, .sample_weight = Tensor(Shape{3}, std::vector<float>{1, 1, 1})}); },
               {"sample_weight", "[2]", "[3]"});
  expect_error([&] { m.fit(kX, kY, {.verbose = 0, .sample_weight = Tensor(Shape{2}, std::vector<float>{1, -2})}); },
               {"sample_weight[1]", "-2", ">= 0"});
  EXPECT_EQ(weight(m), 1.0f);  // nothing trained
}

}  // namespace
}  // namespace horn::keras
