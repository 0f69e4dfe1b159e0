// The learning rate as a graph variable: set between steps, saved with the model, and driven by
// Keras's LearningRateScheduler and ReduceLROnPlateau; schedules of the step count
// (ExponentialDecay, PiecewiseConstantDecay). Updates checked against hand-computed SGD.
#include <cmath>

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

using testing::temp_path;

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

// ---- learning-rate schedules: the rate is a function of the optimizer's step count ----

using optimizers::schedules::ExponentialDecay;
using optimizers::schedules::PiecewiseConstantDecay;

Sequential one_weight_scheduled(optimizers::LearningRate lr) {
  Sequential m;
  m.add(Dense(1, {.input_dim = 1, .use_bias = false, .kernel_initializer = "ones"}));
  m.compile({.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = lr})});
  return m;
}

TEST(LearningRateSchedule, ExponentialDecayMatchesKerasFormula) {
  const ExponentialDecay smooth(0.1, 10, 0.5), stairs(0.1, 10, 0.5, /*staircase=*/true);
  EXPECT_DOUBLE_EQ(smooth(0.0), 0.1);
  EXPECT_DOUBLE_EQ(smooth(5.0), 0.1 * std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(smooth(20.0), 0.025);
  EXPECT_DOUBLE_EQ(stairs(15.0), 0.05);
  EXPECT_DOUBLE_EQ(stairs(9.0), 0.1);
  // The graph computes the same, in float32.
  Graph g;
  Output step = ops::Placeholder(g, DType::kFloat32, Shape{}, "step");
  Output rate = smooth(step), stair_rate = stairs(step);
  Session s(g);
  for (float t : {0.f, 5.f, 15.f, 20.f}) {
    auto out = s.run({{step, Tensor::scalar(t)}}, {rate, stair_rate});
    EXPECT_NEAR(out[0].data<float>()[0], smooth(t), 1e-8) << t;
    EXPECT_NEAR(out[1].data<float>()[0], stairs(t), 1e-8) << t;
  }
}

TEST(LearningRateSchedule, PiecewiseConstantDecayHoldsEachValueUpToItsBoundary) {
  const PiecewiseConstantDecay p({1, 2}, {0.1, 0.05, 0.01});
  EXPECT_EQ(p(0.0), 0.1);
  EXPECT_EQ(p(1.0), 0.1);  // Keras: values[0] while step <= boundaries[0]
  EXPECT_EQ(p(1.5), 0.05);
  EXPECT_EQ(p(2.0), 0.05);
  EXPECT_EQ(p(3.0), 0.01);
  Graph g;
  Output step = ops::Placeholder(g, DType::kFloat32, Shape{}, "step");
  Output rate = p(step);
  Session s(g);
  for (float t : {0.f, 1.f, 1.5f, 2.f, 3.f, 100.f})
    EXPECT_EQ(s.run({{step, Tensor::scalar(t)}}, rate).data<float>()[0], static_cast<float>(p(t))) << t;
}

// y = w x, dL/dw = 2 w: each SGD step multiplies w by 1 - 2 lr(step), the step counted from 0.
TEST(LearningRateSchedule, TrainingUsesTheRateOfEachStep) {
  Sequential m = one_weight_scheduled(ExponentialDecay(0.1, 1, 0.5));
  EXPECT_DOUBLE_EQ(m.learning_rate(), 0.1);
  float w = 1;
  for (double lr : {0.1, 0.05, 0.025}) {
    m.train_on_batch(kX, kY);
    w *= static_cast<float>(1 - 2 * lr);
    EXPECT_NEAR(weight(m), w, 1e-7);
  }
  EXPECT_NEAR(m.learning_rate(), 0.0125, 1e-9);  // the rate of the next step

  Sequential piecewise = one_weight_scheduled(PiecewiseConstantDecay({1, 2}, {0.1, 0.05, 0.01}));
  piecewise.fit(kX, kY, {.batch_size = 1, .epochs = 4, .verbose = 0});
  EXPECT_NEAR(weight(piecewise), 0.8f * 0.8f * 0.9f * 0.98f, 1e-6);  // rates 0.1, 0.1, 0.05, 0.01
}

TEST(LearningRateSchedule, KerasCallFormsAndErrors) {
  using namespace kw;
  const ExponentialDecay a(0.1, decay_steps = 10, decay_rate = 0.5, staircase = true);
  EXPECT_DOUBLE_EQ(a(15.0), 0.05);
  const ExponentialDecay b(decay_rate = 0.5, initial_learning_rate = 0.2, decay_steps = 1);
  EXPECT_DOUBLE_EQ(b(1.0), 0.1);
  optimizers::SGD positional(ExponentialDecay(0.1, 10, 0.5));
  ASSERT_TRUE(positional.schedule());
  EXPECT_EQ(positional.schedule()->name(), "ExponentialDecay");
  optimizers::Adam keyword(learning_rate = PiecewiseConstantDecay({5}, {1e-3, 1e-4}), beta_1 = 0.8);
  ASSERT_TRUE(keyword.schedule());
  EXPECT_EQ(keyword.learning_rate(), 1e-3);

  expect_error([] { ExponentialDecay(0.1, 0, 0.5); }, {"ExponentialDecay", "decay_steps", "> 0"});
  expect_error([] { ExponentialDecay(-0.1, 10, 0.5); }, {"ExponentialDecay", "initial_learning_rate", "-0.1"});
  expect_error([] { PiecewiseConstantDecay({1, 2}, {0.1}); }, {"PiecewiseConstantDecay", "2 boundaries", "1 values"});
  expect_error([] { PiecewiseConstantDecay({2, 1}, {0.1, 0.2, 0.3}); }, {"increase", "2 then 1"});
  expect_error([] { optimizers::schedules::from_json(R"({"class_name": "CosineDecay", "config": {}})"); },
               {"CosineDecay", "not supported"});
  expect_error([] { optimizers::schedules::from_json(R"({"class_name": "ExponentialDecay", "config": {}})"); },
               {"ExponentialDecay", "config needs a number"});

  // The rate is the schedule's: the callbacks that set a number refuse, as in Keras.
  Sequential m = one_weight_scheduled(ExponentialDecay(0.1, 10, 0.5));
  expect_error([&] { m.set_learning_rate(0.5); }, {"SGD", "schedule ExponentialDecay", "cannot be set"});
  auto reduce = std::make_shared<ReduceLROnPlateau>(monitor = "loss", patience = 0, min_delta = 10.0);
  expect_error([&] { m.fit(kX, kY, batch_size = 1, epochs = 2, verbose = 0, callbacks = {reduce}); },
               {"schedule", "cannot be set"});
}

// The schedule and the step count are saved: training resumes on the same rates, in every
// format that has schedules; TensorFlow.js has none and refuses.
TEST(LearningRateSchedule, SavedAndResumedInHornAndKerasFiles) {
  for (const std::string name : {"sched.horn", "sched.h5", "sched.keras"}) {
    Sequential m = one_weight_scheduled(PiecewiseConstantDecay({1}, {0.1, 0.05}));
    m.train_on_batch(kX, kY);
    m.train_on_batch(kX, kY);
    const std::string path = temp_path(name);
    m.save(path);
    Sequential again = load_model(path);
    ASSERT_TRUE(again.optimizer() && again.optimizer()->schedule()) << name;
    EXPECT_EQ(again.optimizer()->schedule()->to_json(), m.optimizer()->schedule()->to_json()) << name;
    again.train_on_batch(kX, kY);
    m.train_on_batch(kX, kY);
    if (name == "sched.horn") {  // Horn's own file carries the step count and slots
      EXPECT_EQ(weight(again), weight(m)) << name;
    } else {  // Keras files carry no optimizer state: the restarted count gives rate 0.1
      EXPECT_NEAR(weight(again), 0.64f * 0.8f, 1e-6) << name;
    }
  }
  Sequential m = one_weight_scheduled(ExponentialDecay(0.1, 10, 0.5));
  expect_error([&] { m.save(temp_path("sched_tfjs/")); }, {"TensorFlow.js", "learning-rate schedule"});
}

}  // namespace
}  // namespace horn::keras
