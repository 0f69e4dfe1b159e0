// Conv2D, pooling, padding and BatchNormalization layers: shapes and values against closed
// forms on tiny images, Keras's names, summary and weight order, files, and errors.
#include <cmath>

#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;
using testing::expect_near;

using testing::temp_path;

// One image [1, rows, cols, 1] holding 1, 2, 3, ... in row-major order.
Tensor counting_image(int64_t rows, int64_t cols) {
  Tensor t(DType::kFloat32, {1, rows, cols, 1});
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = static_cast<float>(i + 1);
  return t;
}

TEST(Conv2DLayer, ValuesAndShapesMatchClosedForms) {
  Sequential m;
  m.add(Conv2D(2, {2, 2}, {.input_shape = {3, 3, 1}}));
  // Filter 0 sums each 2x2 window, filter 1 doubles it; biases 0.5 and -1.
  Tensor kernel(DType::kFloat32, {2, 2, 1, 2});
  for (int64_t i = 0; i < 4; ++i) {
    kernel.data<float>()[2 * i] = 1;
    kernel.data<float>()[2 * i + 1] = 2;
  }
  m.set_weights({kernel, Tensor(Shape{2}, std::vector<float>{0.5f, -1.f})});
  expect_near(m.predict(counting_image(3, 3)), {1, 2, 2, 2}, {12.5, 23, 16.5, 31, 24.5, 47, 28.5, 55});
  EXPECT_EQ(m.layers()[0]->name(), "conv2d_1");

  auto out_shape = [](Conv2D layer, std::vector<int64_t> input) {
    Sequential s;
    s.add(Input(input));
    s.add(std::move(layer));
    s.build();
    return s.layers()[1]->output_shape();
  };
  EXPECT_EQ(out_shape(Conv2D(4, 3), {7, 7, 2}), (Shape{5, 5, 4}));
  EXPECT_EQ(out_shape(Conv2D(4, 3, {.strides = 2, .padding = "same"}), {7, 7, 2}), (Shape{4, 4, 4}));
  EXPECT_EQ(out_shape(Conv2D(4, {3, 1}, {.strides = {2, 1}}), {7, 5, 2}), (Shape{3, 5, 4}));
  EXPECT_EQ(out_shape(Conv2D(4, 3, {.dilation_rate = 2}), {7, 7, 2}), (Shape{3, 3, 4}));
  EXPECT_EQ(out_shape(Conv2D(4, 3, {.padding = "same", .dilation_rate = 2}), {7, 7, 2}), (Shape{7, 7, 4}));
}

TEST(Conv2DLayer, ActivationAndNoBias) {
  Sequential m;
  m.add(Conv2D(
      1, 1,
      {.activation = "relu", .use_bias = false, .kernel_initializer = "ones", .input_shape = {2, 2, 1}}));
  EXPECT_EQ(m.get_weights().size(), 1u);
  Tensor x(Shape{1, 2, 2, 1}, std::vector<float>{-1, 2, -3, 4});
  expect_near(m.predict(x), {1, 2, 2, 1}, {0, 2, 0, 4});
}

TEST(Conv2DLayer, GlorotUniformUsesKerasFans) {
  Sequential m;
  m.add(Conv2D(16, {3, 5}, {.input_shape = {9, 9, 4}}));
  const Tensor kernel = m.get_weights()[0];
  ASSERT_EQ(kernel.shape(), (Shape{3, 5, 4, 16}));
  const double limit = std::sqrt(6.0 / (3 * 5 * 4 + 3 * 5 * 16));  // fan_in + fan_out
  double largest = 0;
  for (float v : kernel.flat<float>()) largest = std::max(largest, std::abs(double(v)));
  EXPECT_LE(largest, limit);
  EXPECT_GT(largest, 0.95 * limit) << "960 uniform draws come close to the limit";
  const Tensor bias = m.get_weights()[1];
  for (float v : bias.flat<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(PoolingLayers, MaxAndAverageOverWindows) {
  auto run = [](auto layer, const Tensor& x, std::vector<int64_t> input_shape) {
    Sequential m;
    m.add(Input(input_shape));
    m.add(std::move(layer));
    return m.predict(x);
  };
  const Tensor x = counting_image(4, 4);
  expect_near(run(MaxPooling2D(), x, {4, 4, 1}), {1, 2, 2, 1}, {6, 8, 14, 16});
  expect_near(run(AveragePooling2D({.pool_size = {2, 2}}), x, {4, 4, 1}), {1, 2, 2, 1},
              {3.5, 5.5, 11.5, 13.5});
  expect_near(run(MaxPooling2D({.pool_size = 2, .strides = 1}), x, {4, 4, 1}), {1, 3, 3, 1},
              {6, 7, 8, 10, 11, 12, 14, 15, 16});
  expect_near(run(MaxPooling2D({.pool_size = {1, 4}}), x, {4, 4, 1}), {1, 4, 1, 1}, {4, 8, 12, 16});
  // "same" on 3x3 with 2x2 windows: the border windows average only the real pixels.
  expect_near(run(AveragePooling2D({.padding = "same"}), counting_image(3, 3), {3, 3, 1}), {1, 2, 2, 1},
              {3, 4.5, 7.5, 9});
}

TEST(PoolingLayers, GlobalPoolingPerChannel) {
  Tensor x(Shape{1, 2, 2, 2}, std::vector<float>{1, -1, 5, -2, 3, -3, 7, -4});
  auto run = [&](auto layer) {
    Sequential m;
    m.add(Input({2, 2, 2}));
    m.add(std::move(layer));
    return m.predict(x);
  };
  expect_near(run(GlobalAveragePooling2D()), {1, 2}, {4, -2.5});
  expect_near(run(GlobalMaxPooling2D()), {1, 2}, {7, -1});
  // Both train: their gradients exist.
  for (bool max : {false, true}) {
    Sequential m;
    m.add(Conv2D(3, 2, {.input_shape = {4, 4, 1}}));
    if (max)
      m.add(GlobalMaxPooling2D());
    else
      m.add(GlobalAveragePooling2D());
    m.add(Dense(2, {.activation = "softmax"}));
    m.compile({.loss = "categorical_crossentropy", .optimizer = "sgd"});
    const Tensor before = m.get_weights()[0];
    m.train_on_batch(counting_image(4, 4), Tensor(Shape{1, 2}, std::vector<float>{1, 0}));
    EXPECT_FALSE(before.bitwise_equal(m.get_weights()[0])) << (max ? "max" : "average");
  }
}

TEST(ZeroPadding2DLayer, PadsRowsAndColumns) {
  auto run = [](ZeroPadding2D layer, const Tensor& x) {
    Sequential m;
    m.add(Input({2, 2, 1}));
    m.add(std::move(layer));
    return m.predict(x);
  };
  const Tensor x = counting_image(2, 2);
  expect_near(run(ZeroPadding2D({{1, 0}, {0, 2}}), x), {1, 3, 4, 1}, {0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0});
  EXPECT_EQ(run(ZeroPadding2D(), x).shape(), (Shape{1, 4, 4, 1}));
  EXPECT_EQ(run(ZeroPadding2D(2), x).shape(), (Shape{1, 6, 6, 1}));
  EXPECT_EQ(run(ZeroPadding2D({1, 2}), x).shape(), (Shape{1, 4, 6, 1}));  // (rows, cols) symmetric
}

TEST(FlattenLayer, NhwcFlattensInKerasChannelsLastOrder) {
  Sequential m;
  m.add(Flatten({.input_shape = {2, 2, 2}}));
  Tensor x(Shape{1, 2, 2, 2}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  expect_near(m.predict(x), {1, 8}, {1, 2, 3, 4, 5, 6, 7, 8});
}

// ---- BatchNormalization ----

// Two images [2, 1, 2, 2]: channel 0 holds 1, 2, 3, 6 (mean 3, biased variance 3.5) and
// channel 1 holds 0, 0, 4, 4 (mean 2, variance 4).
Tensor bn_batch() { return Tensor(Shape{2, 1, 2, 2}, std::vector<float>{1, 0, 2, 0, 3, 4, 6, 4}); }
constexpr double kMean[2] = {3, 2}, kVariance[2] = {3.5, 4}, kEpsilon = 1e-3;

TEST(BatchNormalizationLayer, TrainingUsesBatchStatisticsAndMovesTheAverages) {
  Graph g;
  BatchNormalization bn({.momentum = 0.9});
  bn.set_name("bn");
  bn.build(g, Shape{1, 2, 2}, 1);
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 1, 2, 2}, "x");
  Output y_train = bn.call(x, true);
  const std::vector<Node*> updates = bn.updates();
  Output y_infer = bn.call(x, false);
  ASSERT_EQ(updates.size(), 2u);
  Session s(g);
  s.initialize_variables();
  const Tensor xb = bn_batch();
  std::vector<double> expected;
  for (int64_t i = 0; i < xb.size(); ++i)
    expected.push_back((xb.data<float>()[i] - kMean[i % 2]) / std::sqrt(kVariance[i % 2] + kEpsilon));
  expect_near(s.run({{x, xb}}, y_train), {2, 1, 2, 2}, expected, 1e-5);
  s.run({{x, xb}}, std::vector<Output>{}, updates);
  // moving -= (moving - batch value) * (1 - momentum); the variance is Keras's unbiased
  // estimate, n / (n - (1 + epsilon)) with n = 4 values per channel.
  const std::vector<Output> w = bn.weights();
  ASSERT_EQ(w.size(), 4u);
  std::vector<double> mean, variance;
  for (int c = 0; c < 2; ++c) {
    mean.push_back(0 - (0 - kMean[c]) * 0.1);
    variance.push_back(1 - (1 - kVariance[c] * 4 / (4 - (1 + kEpsilon))) * 0.1);
  }
  expect_near(s.variable_value(w[2].node), {2}, mean, 1e-6);
  expect_near(s.variable_value(w[3].node), {2}, variance, 1e-6);
  expected.clear();
  for (int64_t i = 0; i < xb.size(); ++i)
    expected.push_back((xb.data<float>()[i] - mean[i % 2]) / std::sqrt(variance[i % 2] + kEpsilon));
  expect_near(s.run({{x, xb}}, y_infer), {2, 1, 2, 2}, expected, 1e-5);
}

TEST(BatchNormalizationLayer, FitUpdatesMovingAveragesAndPredictUsesThem) {
  Sequential m;
  m.add(BatchNormalization({.input_shape = {1, 2, 2}}));
  m.compile({.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = 0})});
  const Tensor x = bn_batch();
  // Before any training step the moving averages are 0 and 1: predict is nearly x.
  expect_near(m.predict(x), {2, 1, 2, 2}, testing::values(x.cast(DType::kFloat64)), 1e-3);
  // Training-mode loss against 0 is the mean of the normalised values squared.
  const double loss = m.train_on_batch(x, Tensor::zeros(DType::kFloat32, {2, 1, 2, 2}))[0];
  EXPECT_NEAR(loss, (kVariance[0] / (kVariance[0] + kEpsilon) + kVariance[1] / (kVariance[1] + kEpsilon)) / 2,
              1e-5);
  const std::vector<Tensor> w = m.get_weights();  // gamma, beta, moving_mean, moving_variance
  ASSERT_EQ(w.size(), 4u);
  expect_near(w[0], {2}, {1, 1});
  expect_near(w[1], {2}, {0, 0});
  expect_near(w[2], {2}, {0.01 * kMean[0], 0.01 * kMean[1]});
  const double factor = 4 / (4 - (1 + kEpsilon));
  expect_near(w[3], {2}, {1 - (1 - kVariance[0] * factor) * 0.01, 1 - (1 - kVariance[1] * factor) * 0.01});
  // Evaluation uses the moving averages, so it differs from the training-mode loss.
  const double eval_loss = m.test_on_batch(x, Tensor::zeros(DType::kFloat32, {2, 1, 2, 2}))[0];
  EXPECT_GT(std::abs(eval_loss - loss), 1.0);
  EXPECT_EQ(m.count_params(), 8);
  EXPECT_EQ(m.count_trainable_params(), 4);
}

// At inference BatchNormalization is an elementwise chain over per-channel vectors, so the
// compiler runs it in the convolution's epilogue with the bias and the activation: one pass
// over the output, the same bits as the unfused graph (scaling the filter instead would
// round differently).
TEST(BatchNormalizationLayer, AtInferenceFoldsIntoTheConvolutionsEpilogue) {
  Sequential m;
  m.add(Conv2D(4, {3, 3}, {.input_shape = {6, 6, 2}}));
  m.add(BatchNormalization());
  m.add(Activation("relu"));
  m.add(Flatten());
  m.add(Dense(2, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "sgd"});
  const Session::Feeds feeds{{m.input(), Tensor::uniform(DType::kFloat32, {5, 6, 6, 2}, -1, 1, 3)}};
  Session compiled(m.graph()), reference(m.graph(), {.num_threads = 1, .optimize = false});
  compiled.initialize_variables();
  reference.initialize_variables();
  const std::string plan = compiled.plan_summary(feeds, {m.output()}).to_string();
  EXPECT_NE(plan.find("<- Conv2D,Add,Sub,Div,Mul,Add,Relu"), std::string::npos) << plan;
  EXPECT_TRUE(compiled.run(feeds, m.output()).bitwise_equal(reference.run(feeds, m.output())));
}

TEST(BatchNormalizationLayer, WeightOrderOptionsAndOtherAxes) {
  Sequential m;
  m.add(Dense(3, {.input_dim = 2}));
  m.add(BatchNormalization());
  m.build();
  std::vector<std::string> names;
  for (const Output& w : m.layers()[1]->weights()) names.push_back(w.node->name);
  EXPECT_EQ(names, (std::vector<std::string>{"batch_normalization_1/gamma", "batch_normalization_1/beta",
                                             "batch_normalization_1/moving_mean",
                                             "batch_normalization_1/moving_variance"}));
  Sequential plain;
  plain.add(BatchNormalization({.center = false, .scale = false, .input_shape = {3}}));
  EXPECT_EQ(plain.get_weights().size(), 2u);
  // set_weights reaches the moving averages: inference is then (x - 1) / sqrt(4 + eps).
  plain.set_weights({Tensor::fill(DType::kFloat32, {3}, 1.0), Tensor::fill(DType::kFloat32, {3}, 4.0)});
  expect_near(plain.predict(Tensor::fill(DType::kFloat32, {1, 3}, 5.0)), {1, 3},
              std::vector<double>(3, 4 / std::sqrt(4 + kEpsilon)), 1e-6);
  // axis 1 of [batch, 2, 3]: statistics over the batch and the last axis.
  Graph g;
  BatchNormalization bn({.axis = 1});
  bn.set_name("bn");
  bn.build(g, Shape{2, 3}, 1);
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 2, 3}, "x");
  Tensor y = testing::eval(ops::Mean(bn.call(x, true), {0, 2}),
                           {{x, Tensor::uniform(DType::kFloat32, {4, 2, 3}, -5, 5, 9)}});
  expect_near(y, {2}, {0, 0}, 1e-5);
}

// ---- the model as a whole ----

Sequential keras_mnist_cnn() {
  Sequential m;
  m.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  m.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  m.add(MaxPooling2D({.pool_size = {2, 2}}));
  m.add(Dropout(0.25));
  m.add(Flatten());
  m.add(Dense(128, {.activation = "relu"}));
  m.add(Dropout(0.5));
  m.add(Dense(10, {.activation = "softmax"}));
  return m;
}

TEST(ConvModel, SummaryOfKerasMnistCnn) {
  Sequential m = keras_mnist_cnn();
  std::ostringstream out;
  const std::string s = m.summary(out);
  for (const char* line : {"conv2d_1 (Conv2D)            (None, 26, 26, 32)        320\n",
                           "conv2d_2 (Conv2D)            (None, 24, 24, 64)        18496\n",
                           "max_pooling2d_1 (MaxPooling2 (None, 12, 12, 64)        0\n",
                           "dropout_1 (Dropout)          (None, 12, 12, 64)        0\n",
                           "flatten_1 (Flatten)          (None, 9216)              0\n",
                           "dense_1 (Dense)              (None, 128)               1179776\n",
                           "Total params: 1,199,882\nTrainable params: 1,199,882\nNon-trainable params: 0\n"})
    EXPECT_NE(s.find(line), std::string::npos) << "missing: " << line << "in:\n" << s;

  Sequential bn;
  bn.add(Conv2D(8, 3, {.input_shape = {8, 8, 1}}));
  bn.add(BatchNormalization());
  bn.add(GlobalAveragePooling2D());
  const std::string t = bn.summary(out);
  for (const char* line : {"batch_normalization_1 (Batch (None, 6, 6, 8)           32\n",
                           "global_average_pooling2d_1 ( (None, 8)                 0\n",
                           "Total params: 112\nTrainable params: 96\nNon-trainable params: 16\n"})
    EXPECT_NE(t.find(line), std::string::npos) << "missing: " << line << "in:\n" << t;
}

// Every new layer type, with BatchNormalization and Dropout, on random 8x8 images.
Sequential small_cnn() {
  Sequential m({.seed = 11});
  m.add(Conv2D(4, 3, {.padding = "same", .use_bias = false, .input_shape = {8, 8, 1}}));
  m.add(BatchNormalization({.momentum = 0.8}));
  m.add(Activation("relu"));
  m.add(ZeroPadding2D({{1, 0}, {0, 1}}));               // 9x9
  m.add(MaxPooling2D({.pool_size = 2, .strides = 1}));  // 8x8
  m.add(AveragePooling2D({.padding = "same"}));         // 4x4
  m.add(Dropout(0.25));
  m.add(Conv2D(6, 2, {.activation = "tanh"}));  // 3x3x6
  m.add(GlobalMaxPooling2D());
  m.add(Dense(3, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  return m;
}

struct Images {
  Tensor x, y;
};
Images make_images(int64_t n, uint64_t seed) {
  Tensor x = Tensor::uniform(DType::kFloat32, {n, 8, 8, 1}, 0, 1, seed);
  Tensor labels(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % 3);
    labels.data<int32_t>()[i] = c;
    for (int64_t r = 0; r < 8; ++r) x.at<float>({i, r, 2 * c + 1, 0}) += 1.5f;  // a bright column per class
  }
  return {x, utils::to_categorical(labels, 3)};
}

TEST(ConvModel, SaveLoadAndResumeAreBitwiseExact) {
  Images data = make_images(48, 3);
  Sequential straight = small_cnn();
  straight.fit(data.x, data.y, {.batch_size = 8, .epochs = 4, .verbose = 0});
  Sequential first = small_cnn();
  first.fit(data.x, data.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  {
    Sequential again = small_cnn();
    again.fit(data.x, data.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    const auto a = first.get_weights(), b = again.get_weights();
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "deterministic: weight " << i;
    Sequential cont = small_cnn();
    cont.fit(data.x, data.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    cont.fit(data.x, data.y, {.batch_size = 8, .epochs = 4, .verbose = 0, .initial_epoch = 2});
    const auto c = straight.get_weights(), d = cont.get_weights();
    for (size_t i = 0; i < c.size(); ++i) EXPECT_TRUE(c[i].bitwise_equal(d[i])) << "split fit: weight " << i;
  }
  const std::string path = temp_path("small_cnn.horn");
  first.save(path);
  Sequential reloaded = load_model(path);
  ASSERT_EQ(reloaded.layers().size(), first.layers().size());
  for (size_t i = 0; i < first.layers().size(); ++i)
    EXPECT_EQ(reloaded.layers()[i]->config(), first.layers()[i]->config()) << first.layers()[i]->name();
  EXPECT_TRUE(load_model(path).predict(data.x).bitwise_equal(first.predict(data.x)));
  reloaded.fit(data.x, data.y, {.batch_size = 8, .epochs = 4, .verbose = 0, .initial_epoch = 2});
  const auto a = straight.get_weights(), b = reloaded.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "weight " << i;
  EXPECT_FALSE(a[3].bitwise_equal(Tensor::ones(DType::kFloat32, {4}))) << "moving_variance trained";
  // Layer types without a model above round-trip through their configs too.
  for (std::shared_ptr<Layer> layer : std::vector<std::shared_ptr<Layer>>{
           std::make_shared<GlobalAveragePooling2D>(ShapeOptions{.input_shape = {4, 4, 2}, .name = "g"}),
           std::make_shared<Conv2D>(5, HeightWidth{3, 1},
                                    Conv2DOptions{.padding = "same", .dilation_rate = {2, 1}, .name = "c"})})
    EXPECT_EQ(layer_from_config(layer->config())->config(), layer->config());
}

TEST(ConvModel, BadArgumentsAreClearErrorsNamingTheLayer) {
  expect_error([] { Conv2D(0, 3); }, {"Conv2D", "filters"});
  expect_error([] { Conv2D(8, 0); }, {"Conv2D", "kernel_size", "(0, 0)"});
  expect_error([] { Conv2D(8, 3, {.padding = "full"}); }, {"Conv2D", "padding", "\"full\""});
  expect_error([] { Conv2D(8, 3, {.strides = 2, .dilation_rate = 2}); }, {"Conv2D", "dilation_rate"});
  expect_error([] { Conv2D(8, 3, {.activation = "swish"}); }, {"unknown activation 'swish'"});
  expect_error([] { MaxPooling2D({.pool_size = {2, 0}}); }, {"MaxPooling2D", "pool_size"});
  expect_error([] { AveragePooling2D({.padding = "causal"}); }, {"AveragePooling2D", "padding"});
  expect_error([] { ZeroPadding2D(-1); }, {"ZeroPadding2D", ">= 0"});
  expect_error([] { BatchNormalization({.momentum = 1.5}); }, {"BatchNormalization", "momentum"});
  auto build_error = [](std::vector<std::shared_ptr<Layer>> layers, std::vector<std::string> parts) {
    Sequential m(std::move(layers), {});
    expect_error([&] { m.build(); }, parts);
  };
  build_error(
      {std::make_shared<Flatten>(ShapeOptions{.input_shape = {4, 4, 1}}), std::make_shared<Conv2D>(2, 3)},
      {"Conv2D 'conv2d_1'", "[batch, rows, cols, channels]", "[batch]+[16]", "Flatten"});
  build_error({std::make_shared<Conv2D>(2, 3, Conv2DOptions{.input_shape = {28, 28}})},
              {"Conv2D 'conv2d_1'", "[batch]+[28,28]", "channel axis"});
  build_error({std::make_shared<MaxPooling2D>(Pooling2DOptions{.input_shape = {784}})},
              {"MaxPooling2D 'max_pooling2d_1'", "[batch]+[784]"});
  build_error({std::make_shared<Conv2D>(2, 5, Conv2DOptions{.input_shape = {3, 3, 1}})},
              {"Conv2D 'conv2d_1'", "5x5 window", "does not fit", "[3,3,1]"});
  build_error(
      {std::make_shared<BatchNormalization>(BatchNormalizationOptions{.axis = 0, .input_shape = {3}})},
      {"BatchNormalization 'batch_normalization_1'", "axis 0"});
  Sequential m = keras_mnist_cnn();
  expect_error(
      [&] {
        m.predict(Tensor::zeros(DType::kFloat32, {2, 784}));
      },
      {"[2,784]", "[?,28,28,1]", "conv2d_1"});
}

TEST(Utils, ImagesToNhwcAndScale) {
  Tensor images(DType::kUInt8, {2, 2, 3});
  for (int64_t i = 0; i < images.size(); ++i) images.data<uint8_t>()[i] = static_cast<uint8_t>(i * 51 % 256);
  Tensor x = utils::to_nhwc_and_scale(images, 1.0 / 255);
  ASSERT_EQ(x.shape(), (Shape{2, 2, 3, 1}));
  for (int64_t i = 0; i < x.size(); ++i)
    EXPECT_FLOAT_EQ(x.data<float>()[i], static_cast<float>(images.data<uint8_t>()[i]) * (1.0f / 255));
  expect_error(
      [] {
        utils::to_nhwc_and_scale(Tensor::zeros(DType::kFloat32, {2, 4}), 1);
      },
      {"[N, rows, cols]"});
}

}  // namespace
}  // namespace horn::keras
