// ModelCheckpoint's file name pattern: Keras's {name} and {name:fmt} with numeric formats,
// formatted without printf; anything else refused when the callback is made, and a log name
// that training will not produce refused when fit starts, before the model changes.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

TEST(CheckpointPattern, FormatsAsPythonsStrFormatDoes) {
  const Logs logs{{"loss", 0.25}, {"val_loss", 0.12345}, {"acc", -1.5}};
  EXPECT_EQ(format_checkpoint_path("w.{epoch:02d}-{val_loss:.2f}.horn", 7, logs), "w.07-0.12.horn");
  EXPECT_EQ(format_checkpoint_path("{epoch}_{loss}", 12, logs), "12_0.25");
  EXPECT_EQ(format_checkpoint_path("{epoch:+04d}|{acc:08.3f}|{acc:+.1f}", 3, logs), "+003|-001.500|-1.5");
  EXPECT_EQ(format_checkpoint_path("{val_loss:e}|{val_loss:.3G}|{epoch:5d}", 1, logs), "1.234500e-01|0.123|    1");
  EXPECT_EQ(format_checkpoint_path("{epoch:.1f}", 4, logs), "4.0");
  // Braces are escaped by doubling; printf directives are plain text.
  EXPECT_EQ(format_checkpoint_path("{{run}}-%n%s%d-{epoch}", 2, logs), "{run}-%n%s%d-2");
  expect_error([&] { format_checkpoint_path("{val_acc}", 1, logs); }, {"{val_acc}", "not in the logs"});
}

TEST(CheckpointPattern, AnythingButNumericFormatsIsRefusedAtConstruction) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"w.{epoch:s}.horn", "not supported"}, {"w.{epoch!r}.horn", "must name a value"},
      {"w.{}.horn", "must name a value"},     {"w.{epoch.horn", "never closed"},
      {"w.}.horn", "single '}'"},             {"w.{val_loss:d}.horn", "only {epoch}"},
      {"w.{epoch:>5d}.horn", "not supported"}, {"w.{epoch:.2d}.horn", "no precision"},
      {"w.{epoch:999d}.horn", "too wide"},    {"w.{loss:.99f}.horn", "too large a precision"},
      {"w.{loss:.f}.horn", "without a precision"}, {"w.{0}.horn", "must name a value"},
      {"w.{epoch:%n}.horn", "not supported"},
  };
  for (const auto& [pattern, message] : bad)
    expect_error([&] { ModelCheckpoint c(pattern); }, {"ModelCheckpoint", pattern, message});
}

TEST(CheckpointPattern, ALogNameTrainingWillNotProduceIsRefusedBeforeTraining) {
  Sequential m({.seed = 5});
  m.add(Dense(3, {.input_dim = 4, .activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "sgd", .metrics = {"accuracy"}});
  Tensor x = Tensor::normal(DType::kFloat32, {20, 4}, 0, 1, 1), y = Tensor::zeros(DType::kFloat32, {20, 3});
  for (int64_t i = 0; i < 20; ++i) y.at<float>({i, i % 3}) = 1;
  const std::vector<Tensor> before = m.get_weights();
  int epochs_begun = 0;
  auto counter = std::make_shared<LambdaCallback>(
      LambdaCallbackOptions{.on_epoch_begin = [&](int, const Logs&) { ++epochs_begun; }});
  auto checkpoint = std::make_shared<ModelCheckpoint>("/tmp/never.{epoch:02d}-{val_loss:.2f}.horn");
  expect_error([&] { m.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {counter, checkpoint}}); },
               {"{val_loss}", "does not log", "loss, accuracy"});
  EXPECT_EQ(epochs_begun, 0);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(m.get_weights()[i].bitwise_equal(before[i]));
  expect_error([&] { m.fit(x, y, {.verbose = 0, .callbacks = {nullptr}}); }, {"callback 0 is null"});
}

}  // namespace
}  // namespace horn::keras
