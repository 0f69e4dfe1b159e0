// The learning rate as a graph variable: set between steps, saved with the model, and driven by
// Keras's LearningRateScheduler and ReduceLROnPlateau; updates checked against hand-computed SGD.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

// y = w x with w = 1, one sample x = 1, target 0, mean squared error: dL/dw = 2 w, so one SGD
// step gives w - 2 lr w.
Sequential one_weight(double lr) {
  Sequential m;
  m.add(Dense(1, {.input_dim = 1, .use_bias = false, .kernel_initializer = "ones"}));
  m.compile({.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = lr})});
  return m;
}
const Tensor kX(Shape{1, 1}, std::vector<float>{1}), kY(Shape{1, 1}, std::vector<float>{0});
float weight(Sequential& m) { return m.get_weights()[0].data<float>()[0]; }

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

TEST(LearningRate, SetBetweenStepsAppliesToTheNextStepAndIsSaved) {
  Sequential m = one_weight(0.1);
  EXPECT_EQ(m.learning_rate(), 0.1);
  m.train_on_batch(kX, kY);
  EXPECT_FLOAT_EQ(weight(m), 0.8f);
  m.set_learning_rate(0.25);
  m.train_on_batch(kX, kY);
  EXPECT_FLOAT_EQ(weight(m), 0.4f);  // 0.8 - 2 * 0.25 * 0.8
  m.set_learning_rate(0);
  m.train_on_batch(kX, kY);
  EXPECT_FLOAT_EQ(weight(m), 0.4f);
  m.set_learning_rate(0.25);
  const std::string path = temp_path("lr.horn");
  m.save(path);
  Sequential again = load_model(path);
  EXPECT_EQ(again.learning_rate(), 0.25);
  again.train_on_batch(kX, kY);
  EXPECT_FLOAT_EQ(weight(again), 0.2f);
  expect_error([&] { m.set_learning_rate(-1); }, {"learning_rate", ">= 0", "-1"});
  Sequential uncompiled;
  uncompiled.add(Dense(1, {.input_dim = 1}));
  expect_error([&] { uncompiled.set_learning_rate(0.1); }, {"compiled"});
}

TEST(LearningRate, SchedulerSetsTheRateAtEachEpochStart) {
  Sequential m = one_weight(1.0);
  std::vector<double> seen;
  auto scheduler = std::make_shared<LearningRateScheduler>([&](int epoch, double lr) {
    seen.push_back(lr);
    return 0.1 * (epoch + 1);
  });
  m.fit(kX, kY, {.batch_size = 1, .epochs = 3, .verbose = 0, .callbacks = {scheduler}});
  EXPECT_EQ(seen, (std::vector<double>{1.0, 0.1, 0.2}));  // the rate before each epoch's change
  EXPECT_DOUBLE_EQ(m.learning_rate(), 0.1 * 3);
  // w: 1 -> 0.8 (lr 0.1) -> 0.48 (lr 0.2) -> 0.192 (lr 0.3)
  EXPECT_NEAR(weight(m), 0.192f, 1e-6);
  auto bad = std::make_shared<LearningRateScheduler>([](int, double) { return -0.5; });
  expect_error([&] { m.fit(kX, kY, {.batch_size = 1, .epochs = 1, .verbose = 0, .callbacks = {bad}}); },
               {"LearningRateScheduler", "-0.5", "epoch 0"});
}

// On a plateau (a rate so small the loss moves by less than min_delta), the rate is multiplied
// by `factor` every `patience` epochs, never below min_lr; an improving loss never reduces it.
TEST(LearningRate, ReduceOnPlateauFollowsKerasRule) {
  Sequential flat = one_weight(1e-9);
  auto reduce = std::make_shared<ReduceLROnPlateau>(
      ReduceLROnPlateauOptions{.monitor = "loss", .factor = 0.5, .patience = 2, .min_lr = 3e-10});
  flat.fit(kX, kY, {.batch_size = 1, .epochs = 3, .verbose = 0, .callbacks = {reduce}});
  EXPECT_DOUBLE_EQ(flat.learning_rate(), 5e-10);  // epoch 0 sets the best, 1 and 2 wait: reduce
  flat.fit(kX, kY, {.batch_size = 1, .epochs = 6, .verbose = 0, .callbacks = {reduce}});
  EXPECT_DOUBLE_EQ(flat.learning_rate(), 3e-10);  // 2.5e-10 clamped to min_lr
  Sequential learning = one_weight(0.1);
  learning.fit(kX, kY, {.batch_size = 1, .epochs = 5, .verbose = 0,
                        .callbacks = {std::make_shared<ReduceLROnPlateau>(
                            ReduceLROnPlateauOptions{.monitor = "loss", .patience = 1})}});
  EXPECT_DOUBLE_EQ(learning.learning_rate(), 0.1);
  expect_error([] { ReduceLROnPlateau({.factor = 1.0}); }, {"factor", "< 1"});
  expect_error([] { ReduceLROnPlateau({.mode = "up"}); }, {"mode", "up"});
}

}  // namespace
}  // namespace horn::keras
