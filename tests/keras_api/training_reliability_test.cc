// Training that cannot go silently wrong: TerminateOnNaN stops at the first invalid loss;
// validation, evaluate and predict inside fit leave training's random stream alone (bitwise);
// a compile that fails leaves the model as it was.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

struct Data {
  Tensor x, y;
};
Data blobs(int64_t n, uint64_t seed) {
  Tensor x = Tensor::normal(DType::kFloat32, {n, 4}, 0, 0.5, seed);
  Tensor y = Tensor::zeros(DType::kFloat32, {n, 3});
  for (int64_t i = 0; i < n; ++i) {
    x.at<float>({i, i % 3}) += 2.0f;
    y.at<float>({i, i % 3}) = 1;
  }
  return {x, y};
}

void expect_bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "weight " << i;
}

TEST(TerminateOnNaN, StopsAtTheFirstBatchWithAnInvalidLossAsKerasDoes) {
  Sequential m({.seed = 1});
  m.add(Dense(1, {.input_dim = 2}));
  m.compile({.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = 1e10})});
  // Finite data, a learning rate far too high: the loss overflows within a few batches.
  Tensor x = Tensor::normal(DType::kFloat32, {64, 2}, 0, 10, 2), y = Tensor::normal(DType::kFloat32, {64, 1}, 0, 1, 3);
  std::vector<double> batch_losses;
  auto recorder = std::make_shared<LambdaCallback>(LambdaCallbackOptions{
      .on_batch_end = [&](int64_t, const Logs& logs) { batch_losses.push_back(logs.at("loss")); }});
  ::testing::internal::CaptureStdout();
  History h = m.fit(x, y, {.batch_size = 4, .epochs = 5, .verbose = 0,
                           .callbacks = {recorder, std::make_shared<TerminateOnNaN>()}});
  const std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_FALSE(batch_losses.empty());
  ASSERT_FALSE(std::isfinite(batch_losses.back())) << "training never diverged; raise the learning rate";
  for (size_t i = 0; i + 1 < batch_losses.size(); ++i) EXPECT_TRUE(std::isfinite(batch_losses[i]));
  EXPECT_LT(batch_losses.size(), 16u) << "training went on after the invalid loss";
  EXPECT_EQ(out, "Batch " + std::to_string(batch_losses.size() - 1) + ": Invalid loss, terminating training\n");
  EXPECT_EQ(h.epoch, std::vector<int>{0});
}

Sequential dropout_model() {
  Sequential m({.seed = 11});
  m.add(Dense(16, {.input_dim = 4, .activation = "relu"}));
  m.add(Dropout(0.5));
  m.add(Dense(3, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  return m;
}

TEST(RandomStreams, ValidationEvaluateAndPredictInsideFitLeaveTrainingBitwiseUnchanged) {
  Data train = blobs(96, 1), val = blobs(30, 2);
  Sequential plain = dropout_model();
  plain.fit(train.x, train.y, {.batch_size = 16, .epochs = 3, .verbose = 0});
  Sequential validated = dropout_model();
  validated.fit(train.x, train.y,
                {.batch_size = 16, .epochs = 3, .verbose = 0, .validation_data = std::make_pair(val.x, val.y)});
  expect_bitwise_equal(plain.get_weights(), validated.get_weights());
  Sequential busy = dropout_model();
  auto inference = std::make_shared<LambdaCallback>(LambdaCallbackOptions{.on_epoch_end = [&](int, const Logs&) {
    busy.evaluate(val.x, val.y);
    busy.predict(val.x);
    busy.predict_on_batch(val.x);
    busy.test_on_batch(val.x, val.y);
  }});
  busy.fit(train.x, train.y, {.batch_size = 16, .epochs = 3, .verbose = 0, .callbacks = {inference}});
  expect_bitwise_equal(plain.get_weights(), busy.get_weights());
  // Training itself still draws fresh masks every step.
  EXPECT_NE(plain.session().run_counter(), 0u);
}

TEST(CompileValidation, AFailedCompileLeavesTheModelAsItWas) {
  Data d = blobs(60, 3);
  Sequential reference = dropout_model(), m = dropout_model();
  expect_error([&] { m.compile({.loss = "mse", .optimizer = "adam", .metrics = {"no_such_metric"}}); },
               {"no_such_metric"});
  Sequential other = dropout_model();
  std::shared_ptr<optimizers::Optimizer> used = std::make_shared<optimizers::SGD>();
  other.compile({.loss = "mse", .optimizer = used});
  expect_error([&] { m.compile({.loss = "mse", .optimizer = used}); }, {"already belongs to a compiled model"});
  // A custom loss that fails while the graph is being extended: the model keeps its old step.
  losses::Loss failing("failing", [](Output, Output) -> Output { fail("custom loss failed"); });
  expect_error([&] { m.compile({.loss = failing, .optimizer = "sgd"}); }, {"custom loss failed"});
  EXPECT_EQ(m.metrics_names(), reference.metrics_names());
  reference.fit(d.x, d.y, {.batch_size = 10, .epochs = 2, .verbose = 0});
  m.fit(d.x, d.y, {.batch_size = 10, .epochs = 2, .verbose = 0});
  expect_bitwise_equal(reference.get_weights(), m.get_weights());
}

}  // namespace
}  // namespace horn::keras
