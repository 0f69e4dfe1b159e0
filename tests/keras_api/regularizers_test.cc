// Weight regularizers (kernel_regularizer, bias_regularizer): the penalty against closed-form
// sums, its gradient in an SGD step against the hand-computed update, and the regularizers
// carried through every model file format.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "keras_api/keras.h"
#include "keras_api/keras_config_json.h"
#include "keras_api/model_file.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

using testing::temp_path;

// x = 0 and y = 0: the data loss (mse) is 0, so the loss is the penalty alone, and its
// gradient is the penalty's.
const Tensor kX = Tensor::zeros(DType::kFloat32, {1, 2}), kY = Tensor::zeros(DType::kFloat32, {1, 2});

Sequential regularized(DenseOptions options, double lr = 0.5) {
  options.input_dim = 2;
  options.kernel_initializer = "ones";
  Sequential m;
  m.add(Dense(2, options));
  m.compile({.loss = "mse", .optimizer = optimizers::SGD(lr)});
  return m;
}

TEST(Regularizers, PenaltyIsKerasSumAndCountsInTrainingAndEvaluationLoss) {
  // Kernel of ones, 2x2: l2 * 4; l1 * 4 + l2 * 4; a bias of ones (2) under l1: l1 * 2.
  Sequential l2 = regularized({.kernel_regularizer = regularizers::l2(0.1)});
  EXPECT_FLOAT_EQ(l2.evaluate(kX, kY, {.verbose = 0})[0], 0.4f);
  Sequential both = regularized({.kernel_regularizer = regularizers::l1_l2(0.1, 0.2)});
  EXPECT_FLOAT_EQ(both.evaluate(kX, kY, {.verbose = 0})[0], 1.2f);
  Sequential bias = regularized({.bias_initializer = "ones", .bias_regularizer = regularizers::l1(0.5)});
  // The data loss is no longer 0: the prediction is the bias, 1, so mse = 1.
  EXPECT_FLOAT_EQ(bias.evaluate(kX, kY, {.verbose = 0})[0], 1.0f + 0.5f * 2);
  EXPECT_FLOAT_EQ(bias.train_on_batch(kX, kY)[0], 2.0f);  // the loss before the step
  // Keras's names with their default factor 0.01.
  Sequential named = regularized({.kernel_regularizer = "l2"});
  EXPECT_FLOAT_EQ(named.evaluate(kX, kY, {.verbose = 0})[0], 0.04f);
  Sequential none = regularized({});
  EXPECT_EQ(none.evaluate(kX, kY, {.verbose = 0})[0], 0.0f);
  EXPECT_TRUE(none.layers()[0]->losses().empty());
}

// d/dW (l2 sum W^2) = 2 l2 W, d/dW (l1 sum |W|) = l1 sign(W): W = 1 - lr (2 l2 + l1).
TEST(Regularizers, GradientStepMatchesHandComputedUpdate) {
  Sequential m = regularized({.kernel_regularizer = regularizers::l1_l2(0.1, 0.2)}, 0.5);
  m.train_on_batch(kX, kY);
  const Tensor w = m.get_weights()[0];
  for (int64_t i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(w.data<float>()[i], 1.0f - 0.5f * (2 * 0.2f + 0.1f));
  EXPECT_EQ(m.get_weights()[1].data<float>()[0], 0.0f);  // no bias regularizer: the bias stays
}

TEST(Regularizers, Conv2DKernelAndBias) {
  Sequential m;
  m.add(Conv2D(3, {2, 2}, {.kernel_initializer = "ones", .bias_initializer = "ones",
                           .kernel_regularizer = regularizers::L2(0.25), .bias_regularizer = regularizers::L1(0.5),
                           .input_shape = {3, 3, 1}}));
  m.add(Flatten());
  m.compile({.loss = "mse", .optimizer = "sgd"});
  const Tensor x = Tensor::zeros(DType::kFloat32, {1, 3, 3, 1}), y = Tensor::fill(DType::kFloat32, {1, 12}, 1.0);
  // The output is the bias, 1 = y: the loss is 0.25 * 12 (kernel 2x2x1x3 of ones) + 0.5 * 3.
  EXPECT_FLOAT_EQ(m.evaluate(x, y, {.verbose = 0})[0], 3.0f + 1.5f);
}

TEST(Regularizers, KeywordFormsAndErrors) {
  using namespace kw;
  Dense d(4, kernel_regularizer = regularizers::l2(1e-4), bias_regularizer = "l1", input_dim = 3);
  EXPECT_EQ(d.config().at("kernel_regularizer"), "l1=0,l2=1e-04");
  EXPECT_EQ(d.config().at("bias_regularizer"), "l1=0.01,l2=0");
  EXPECT_EQ(Dense(4).config().count("kernel_regularizer"), 0u);  // none: nothing saved
  expect_error([] { Dense(4, {.kernel_regularizer = "l3"}); }, {"unknown regularizer", "l3", "l1, l2, l1_l2"});
  expect_error([] { regularizers::l2(-1); }, {"regularizer", ">= 0", "-1"});
  expect_error([] { regularizers::Regularizer::from_text("l1=x"); }, {"regularizer", "l1=x"});
}

// The regularizers survive saving in every format: the reloaded model reports the same
// regularized loss.
TEST(Regularizers, SavedInHornKerasAndTensorFlowJsFiles) {
  Sequential m;
  m.add(Dense(4, {.activation = "relu", .kernel_regularizer = regularizers::l1_l2(0.01, 0.02),
                  .bias_regularizer = regularizers::l2(0.5), .input_shape = {3}}));
  m.add(Dense(2, {.kernel_regularizer = regularizers::l1(0.03)}));
  m.compile({.loss = "mse", .optimizer = "adam"});
  const Tensor x = Tensor::fill(DType::kFloat32, {4, 3}, 0.5), y = Tensor::fill(DType::kFloat32, {4, 2}, 0.25);
  m.fit(x, y, {.batch_size = 2, .epochs = 2, .verbose = 0});
  const float loss = m.evaluate(x, y, {.verbose = 0})[0];
  for (const std::string name : {"reg.horn", "reg.h5", "reg.keras", "reg_tfjs/"}) {
    SCOPED_TRACE(name);
    const std::string path = temp_path(name);
    m.save(path);
    Sequential again = load_model(path);
    std::vector<LayerConfig> dense;  // a Keras 3 file adds an InputLayer first
    for (const auto& l : again.layers())
      if (l->type() == "Dense") dense.push_back(l->config());
    ASSERT_EQ(dense.size(), 2u);
    auto regularizer = [&](int layer, const char* key) {
      return dense[layer].count(key) ? dense[layer].at(key) : "(none)";
    };
    EXPECT_EQ(regularizer(0, "kernel_regularizer"), "l1=0.01,l2=0.02");
    EXPECT_EQ(regularizer(0, "bias_regularizer"), "l1=0,l2=0.5");
    EXPECT_EQ(regularizer(1, "kernel_regularizer"), "l1=0.03,l2=0");
    EXPECT_FLOAT_EQ(again.evaluate(x, y, {.verbose = 0})[0], loss);
  }
}

// Keras writes L1, L2 or L1L2 objects; other regularizers, and an activity regularizer, are
// refused naming the layer.
TEST(Regularizers, KerasConfigsReadAndRefused) {
  using json = nlohmann::json;
  auto model = [](json layer_config) {
    layer_config["units"] = 2;
    layer_config["name"] = "d";
    layer_config["batch_input_shape"] = {nullptr, 3};
    return json{{"class_name", "Sequential"},
                {"config", {{"name", "s"}, {"layers", {{{"class_name", "Dense"}, {"config", layer_config}}}}}}};
  };
  ModelFile file;
  read_keras_model_config(model({{"kernel_regularizer", {{"class_name", "L2"}, {"config", {{"l2", 0.5}}}}},
                                 {"bias_regularizer", {{"class_name", "L1"}, {"config", {{"l1", 0.25}}}}}}),
                          &file);
  EXPECT_EQ(file.layers.at(0).at("kernel_regularizer"), "l1=0,l2=0.5");
  EXPECT_EQ(file.layers.at(0).at("bias_regularizer"), "l1=0.25,l2=0");
  ModelFile zero;
  read_keras_model_config(model({{"kernel_regularizer", {{"class_name", "L1L2"}, {"config", {{"l1", 0}, {"l2", 0}}}}}}),
                          &zero);
  EXPECT_EQ(zero.layers.at(0).count("kernel_regularizer"), 0u);
  ModelFile refused;
  expect_error([&] {
    read_keras_model_config(
        model({{"kernel_regularizer", {{"class_name", "OrthogonalRegularizer"}, {"config", {{"factor", 0.01}}}}}}),
        &refused);
  }, {"'d'", "OrthogonalRegularizer", "not supported"});
  expect_error([&] {
    read_keras_model_config(model({{"activity_regularizer", {{"class_name", "L2"}, {"config", {{"l2", 0.5}}}}}}),
                            &refused);
  }, {"activity_regularizer", "not supported"});
  expect_error([&] {
    read_keras_model_config(model({{"kernel_regularizer", {{"class_name", "L2"}, {"config", {{"l2", -1}}}}}}),
                            &refused);
  }, {"kernel_regularizer", ">= 0"});
}

}  // namespace
}  // namespace horn::keras
