// Keras call forms (issue 15): keyword arguments in any order, layers and callbacks by value,
// validation_data as a brace pair, Sequential({...}), positional and `lr` learning rates,
// class-style losses and metrics. Each form is checked against the designated-initializer form
// it stands for.
#include <sstream>

#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;
using namespace kw;  // NOLINT: the form under test

// Misplaced keywords do not compile; these traits are what the static_assert checks.
static_assert(epochs_keyword::applies_to<FitOptions, int>);
static_assert(!epochs_keyword::applies_to<DenseOptions, int>);
static_assert(!activation_keyword::applies_to<FitOptions, const char*>);
static_assert(!epochs_keyword::applies_to<FitOptions, std::string>);
static_assert(input_shape_keyword::applies_to<DenseOptions, IntList>);
static_assert(strides_keyword::applies_to<Conv2DOptions, IntList>);

Tensor random_tensor(Shape shape, uint64_t seed) { return Tensor::uniform(DType::kFloat32, shape, -1, 1, seed); }

Tensor one_hot_targets(int64_t n, int64_t classes) {
  Tensor y = Tensor::zeros(DType::kFloat32, {n, classes});
  for (int64_t i = 0; i < n; ++i) y.data<float>()[i * classes + (i * 7) % classes] = 1;
  return y;
}

TEST(Keywords, LayersTakeKeywordsInAnyOrderAsTheirOptionsStructs) {
  EXPECT_EQ(Dense(16, activation = "relu", input_shape = {8}, use_bias = false).config(),
            Dense(16, {.activation = "relu", .use_bias = false, .input_shape = {8}}).config());
  EXPECT_EQ(Dense(units = 4, name = "out").config(), Dense(4, {.name = "out"}).config());
  EXPECT_EQ(Conv2D(8, {3, 3}, padding = "same", strides = {2, 1}, input_shape = {8, 8, 1}).config(),
            Conv2D(8, {3, 3}, {.strides = {2, 1}, .padding = "same", .input_shape = {8, 8, 1}}).config());
  EXPECT_EQ(MaxPooling2D(strides = 1, pool_size = {3, 3}).config(),
            MaxPooling2D({.pool_size = {3, 3}, .strides = 1}).config());
  EXPECT_EQ(Dropout(0.25, name = "drop", seed = 5).config(), Dropout(0.25, {.seed = 5, .name = "drop"}).config());
  EXPECT_EQ(BatchNormalization(epsilon = 0.01, momentum = 0.9).config(),
            BatchNormalization({.momentum = 0.9, .epsilon = 0.01}).config());
  EXPECT_EQ(LeakyReLU(alpha = 0.2).config(), LeakyReLU({.alpha = 0.2}).config());
  EXPECT_EQ(Activation("tanh", name = "t").config(), Activation("tanh", {.name = "t"}).config());
  EXPECT_EQ(Dense(4, dtype = "mixed_bfloat16").config(), Dense(4, {.dtype = "mixed_bfloat16"}).config());
  EXPECT_EQ(Dense(4, dtype = "mixed_bfloat16").config().at("dtype"), "mixed_bfloat16");
  expect_error([] { Conv2D(8, {3, 3}, strides = {1, 2, 3}); }, {"strides", "2 numbers", "3"});
}

TEST(Keywords, SequentialFromAListOfLayersByValueOrShared) {
  auto shared = std::make_shared<Dense>(3, DenseOptions{.name = "head"});
  Sequential m({Dense(5, activation = "relu", input_dim = 4), Dropout(0.5), shared}, name = "mlp", seed = 7);
  ASSERT_EQ(m.layers().size(), 3u);
  EXPECT_EQ(m.layers()[1]->type(), "Dropout");
  EXPECT_EQ(m.layers()[2], shared);
  std::ostringstream out;
  m.summary(out);
  EXPECT_NE(out.str().find("mlp"), std::string::npos) << out.str();
  Sequential designated({std::make_shared<Dense>(5, DenseOptions{.input_dim = 4, .activation = "relu"}),
                         std::make_shared<Dropout>(0.5), std::make_shared<Dense>(3, DenseOptions{.name = "head"})},
                        {.name = "mlp", .seed = 7});
  const auto a = m.get_weights(), b = designated.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].bitwise_equal(b[i])) << i;
}

// The same training run written both ways gives the same weights, bit for bit.
TEST(Keywords, CompileFitEvaluatePredictMatchTheDesignatedForm) {
  const Tensor x = random_tensor({64, 6}, 1), y = one_hot_targets(64, 3);
  const Tensor xv = random_tensor({16, 6}, 2), yv = one_hot_targets(16, 3);
  auto model = [] { return Sequential({Dense(8, activation = "relu", input_dim = 6), Dense(3, activation = "softmax")}); };

  Sequential a = model();
  a.compile(metrics = {"accuracy"}, optimizer = optimizers::SGD(0.1, momentum = 0.5), loss = "categorical_crossentropy");
  auto stop = std::make_shared<EarlyStopping>(patience = 100, monitor = "val_loss");
  History ha = a.fit(x, y, verbose = 0, epochs = 3, batch_size = 16, shuffle = false,
                     validation_data = {xv, yv}, callbacks = {stop, TerminateOnNaN()});
  Sequential b = model();
  b.compile({.loss = "categorical_crossentropy",
             .optimizer = optimizers::SGD({.learning_rate = 0.1, .momentum = 0.5}),
             .metrics = {"accuracy"}});
  History hb = b.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0,
                            .callbacks = {std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "val_loss", .patience = 100})},
                            .validation_data = ValidationData(xv, yv), .shuffle = false});
  EXPECT_EQ(ha.history, hb.history);
  EXPECT_EQ(ha.history.at("val_loss").size(), 3u);
  EXPECT_EQ(stop->stopped_epoch(), 0);  // the shared callback is the one fit ran
  const auto wa = a.get_weights(), wb = b.get_weights();
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(wa[i].bitwise_equal(wb[i])) << i;
  EXPECT_EQ(a.evaluate(xv, yv, verbose = 0, batch_size = 5), b.evaluate(xv, yv, {.batch_size = 5, .verbose = 0}));
  EXPECT_TRUE(a.predict(xv, batch_size = 3).bitwise_equal(b.predict(xv, {.batch_size = 3})));
  EXPECT_TRUE(a.predict_classes(xv, batch_size = 3).bitwise_equal(b.predict_classes(xv)));
}

TEST(Keywords, OptimizersTakeAPositionalRateAndTheLrAlias) {
  EXPECT_EQ(optimizers::SGD(0.05).config(), optimizers::SGD({.learning_rate = 0.05}).config());
  EXPECT_EQ(optimizers::SGD(1).config().at("learning_rate"), 1.0);
  EXPECT_EQ(optimizers::SGD(lr = 0.02, nesterov = true, momentum = 0.9).config(),
            optimizers::SGD({.learning_rate = 0.02, .momentum = 0.9, .nesterov = true}).config());
  EXPECT_EQ(optimizers::Adam({.lr = 0.004}).config().at("learning_rate"), 0.004);
  EXPECT_EQ(optimizers::Adam(0.003, amsgrad = true).config(),
            optimizers::Adam({.learning_rate = 0.003, .amsgrad = true}).config());
  EXPECT_EQ(optimizers::RMSprop(lr = 0.01, rho = 0.8).config(), optimizers::RMSprop({.learning_rate = 0.01, .rho = 0.8}).config());
  EXPECT_EQ(optimizers::Nadam(0.01).config().at("learning_rate"), 0.01);
  EXPECT_EQ(optimizers::Adagrad(lr = 0.5).config().at("learning_rate"), 0.5);
  EXPECT_EQ(optimizers::Adadelta(0.5).config().at("learning_rate"), 0.5);
  EXPECT_EQ(optimizers::Adamax(0.5).config().at("learning_rate"), 0.5);
  expect_error([] { optimizers::SGD(-0.5); }, {"learning_rate", ">= 0", "-0.5"});
}

TEST(Keywords, ClassStyleLossesAndMetrics) {
  EXPECT_EQ(losses::CategoricalCrossentropy().name, "categorical_crossentropy");
  EXPECT_EQ(losses::KLDivergence().name, "kullback_leibler_divergence");
  EXPECT_EQ(losses::Loss("MeanSquaredError").name, "mean_squared_error");
  Sequential m({Dense(3, activation = "softmax", input_dim = 2)});
  m.compile(loss = losses::CategoricalCrossentropy(), optimizer = optimizers::Adam(),
            metrics = {metrics::CategoricalAccuracy(), metrics::MeanSquaredError()});
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "categorical_accuracy", "mean_squared_error"}));
  expect_error([] { losses::Loss("CategoricalCrossEntropy"); }, {"loss", "CategoricalCrossEntropy"});
}

TEST(Keywords, ActivationFunctionsAsValues) {
  EXPECT_EQ(Dense(4, activation = activations::relu, input_dim = 3).config(),
            Dense(4, activation = "relu", input_dim = 3).config());
  EXPECT_EQ(Activation(activations::softmax).config().at("activation"), "softmax");
  EXPECT_EQ(Dense(2, {.activation = activations::tanh}).config().at("activation"), "tanh");
  // Applied to a graph value, each is its activation: relu(-1, 2) = (0, 2).
  Graph g;
  Output x = ops::Const(g, Tensor(Shape{2}, std::vector<float>{-1, 2}));
  testing::expect_near(testing::eval(activations::relu(x)), Shape{2}, {0, 2});
  testing::expect_near(testing::eval(activations::sigmoid(x)), Shape{2},
                       {1 / (1 + std::exp(1.0)), 1 / (1 + std::exp(-2.0))});
}

TEST(Keywords, CallbacksNameThemselvesForABadMode) {
  expect_error([] { EarlyStopping(mode = "lowest"); }, {"EarlyStopping", "mode", "'lowest'"});
  expect_error([] { ReduceLROnPlateau(mode = "up"); }, {"ReduceLROnPlateau", "mode", "'up'"});
  expect_error([] { ModelCheckpoint("m.horn", mode = "best"); }, {"ModelCheckpoint", "mode", "'best'"});
}

}  // namespace
}  // namespace horn::keras
