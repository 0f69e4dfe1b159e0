// The Sequential model through its public API, on small generated data sets.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/op_registry.h"
#include "keras_api/keras.h"
#include "keras_api/model_file.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

// Three Gaussian blobs in 4-D: easy to separate, so short training must succeed.
struct Blobs {
  Tensor x, y, labels;
};
Blobs make_blobs(int64_t n, uint64_t seed) {
  Tensor x = Tensor::normal(DType::kFloat32, {n, 4}, 0, 0.5, seed);
  Tensor labels(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % 3);
    labels.data<int32_t>()[i] = c;
    x.at<float>({i, c}) += 2.0f;
  }
  return {x, utils::to_categorical(labels, 3), labels};
}

using testing::temp_path;

Sequential small_model(uint64_t seed = 7) {
  Sequential m({.seed = seed});
  m.add(Dense(16, {.input_dim = 4, .activation = "relu"}));
  m.add(Dense(3, {.activation = "softmax"}));
  return m;
}

TEST(Sequential, BothSpellingsBuildTheSameComputation) {
  Sequential old_style, new_style;
  old_style.add(Dense({.input_dim = 4, .output_dim = 5}));
  old_style.add(Activation("sigmoid"));
  old_style.add(Dense({.output_dim = 3}));
  old_style.add(Activation("softmax"));
  new_style.add(Dense({.units = 5, .input_dim = 4, .activation = "sigmoid"}));
  new_style.add(Dense(3, {.activation = "softmax"}));
  auto compute_ops = [](Sequential& m) {
    std::vector<std::string> ops;
    for (const auto& n : m.graph().nodes())
      if (!n->op->is_source()) ops.push_back(n->op_name());
    return ops;
  };
  EXPECT_EQ(compute_ops(old_style), compute_ops(new_style));
  EXPECT_EQ(compute_ops(new_style), (std::vector<std::string>{"MatMul", "Add", "Sigmoid", "MatMul", "Add", "Softmax"}));
  new_style.set_weights(old_style.get_weights());
  Blobs data = make_blobs(10, 1);
  EXPECT_TRUE(old_style.predict(data.x).bitwise_equal(new_style.predict(data.x)));
  EXPECT_EQ(old_style.count_params(), 4 * 5 + 5 + 5 * 3 + 3);
}

TEST(Sequential, SummaryLooksLikeKeras) {
  Sequential m;
  m.add(Dense(500, {.input_dim = 784, .activation = "sigmoid"}));
  m.add(Dense(500, {.activation = "sigmoid"}));
  m.add(Dense(10, {.activation = "softmax"}));
  std::ostringstream out;
  const std::string s = m.summary(out);
  EXPECT_EQ(out.str(), s);
  EXPECT_NE(s.find("dense_1 (Dense)              (None, 500)               392500"), std::string::npos) << s;
  EXPECT_NE(s.find("dense_3 (Dense)              (None, 10)                5010"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 648,010"), std::string::npos) << s;
  EXPECT_EQ(m.layers().size(), 3u);
  EXPECT_EQ(m.layers()[1]->output_shape(), (Shape{500}));
}

TEST(Sequential, FitLearnsAndEvaluateReportsLossThenAccuracy) {
  Blobs train = make_blobs(300, 1), test = make_blobs(90, 2);
  Sequential m = small_model();
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  History h = m.fit(train.x, train.y, {.batch_size = 16, .epochs = 15, .verbose = 0});
  ASSERT_EQ(h.history["loss"].size(), 15u);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  std::vector<double> score = m.evaluate(test.x, test.y);
  ASSERT_EQ(score.size(), 2u);
  EXPECT_GT(score[1], 0.95);
  EXPECT_LT(score[0], 0.3);
  Tensor probs = m.predict(test.x);
  ASSERT_EQ(probs.shape(), (Shape{90, 3}));
  double row = 0;
  for (int c = 0; c < 3; ++c) row += probs.at<float>({0, c});
  EXPECT_NEAR(row, 1.0, 1e-5);
  // Sparse labels with the sparse loss learn the same task.
  Sequential s = small_model();
  s.compile({.loss = "sparse_categorical_crossentropy", .optimizer = optimizers::Adam({.learning_rate = 0.01}),
             .metrics = {"accuracy"}});
  s.fit(train.x, train.labels, {.batch_size = 32, .nb_epoch = 10, .verbose = 0});
  EXPECT_GT(s.evaluate(test.x, test.labels)[1], 0.95);
}

TEST(Sequential, PredictClassesIsTheArgmaxOrTheSigmoidThreshold) {
  const Blobs b = make_blobs(60, 7);
  Sequential m;
  m.add(Dense(3, {.input_dim = 4, .activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "sgd"});
  const Tensor proba = m.predict(b.x), classes = m.predict_classes(b.x);
  ASSERT_EQ(classes.dtype(), DType::kInt32);
  ASSERT_EQ(classes.shape(), Shape({60}));
  for (int64_t i = 0; i < 60; ++i) {
    const float* row = proba.data<float>() + 3 * i;
    EXPECT_EQ(classes.data<int32_t>()[i], std::max_element(row, row + 3) - row) << i;
  }
  Sequential binary;
  binary.add(Dense(1, {.input_dim = 4, .activation = "sigmoid"}));
  binary.compile({.loss = "binary_crossentropy", .optimizer = "sgd"});
  const Tensor p = binary.predict(b.x), c = binary.predict_classes(b.x);
  ASSERT_EQ(c.shape(), Shape({60, 1}));
  for (int64_t i = 0; i < 60; ++i) EXPECT_EQ(c.data<int32_t>()[i], p.data<float>()[i] > 0.5f ? 1 : 0) << i;
}

TEST(Sequential, TruncatedNormalInitializerHasKerasDefaults) {
  Sequential m;
  m.add(Dense(500, {.input_dim = 100, .kernel_initializer = "truncated_normal"}));
  m.build();
  const Tensor k = m.get_weights()[0];
  double sq = 0;
  for (float v : k.flat<float>()) {
    ASSERT_LE(std::abs(v), 0.1f + 1e-6f) << "Keras's TruncatedNormal: stddev 0.05, cut at 2 stddev";
    sq += double(v) * v;
  }
  EXPECT_NEAR(std::sqrt(sq / k.size()), 0.05 * 0.8796, 0.002);
}

TEST(Sequential, LeakyReluLayerHasKerasSlopeAndSurvivesSaveAndLoad) {
  const Tensor x(Shape{1, 4}, std::vector<float>{-2, -0.5f, 0, 3});
  for (double alpha : {0.3, 2.0}) {
    Sequential m;
    if (alpha == 0.3) m.add(LeakyReLU({.input_shape = {4}}));  // Keras's default slope
    else m.add(LeakyReLU({.alpha = alpha, .input_shape = {4}}));
    const Tensor y = m.predict(x);
    const std::vector<float> want{float(-2 * alpha), float(-0.5 * alpha), 0, 3};
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(y.data<float>()[i], want[i]) << "alpha " << alpha << " x" << i;
    EXPECT_EQ(m.layers()[0]->name(), "leaky_re_lu_1");
    // Horn's format, Keras .h5 and a TensorFlow.js directory all carry alpha.
    for (const std::string name : {"leaky.horn", "leaky.h5", "leaky_tfjs/"}) {
      const std::string path = temp_path((alpha == 0.3 ? "a_" : "b_") + name);
      m.save(path);
      EXPECT_TRUE(load_model(path).predict(x).bitwise_equal(y)) << path;
    }
  }
}

TEST(Sequential, FitPrintsKerasStyleProgress) {
  Blobs train = make_blobs(40, 11);
  Sequential m = small_model();
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  ::testing::internal::CaptureStdout();  // not a terminal: one final line per epoch
  m.fit(train.x, train.y, {.batch_size = 16, .epochs = 2, .verbose = 1});
  const std::string bar = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(bar.find("Epoch 1/2\n40/40 [==============================] - "), std::string::npos) << bar;
  EXPECT_NE(bar.find("s/step - loss: "), std::string::npos) << bar;  // Keras 2.3: us/step, ms/step or s/step
  EXPECT_NE(bar.find(" - accuracy: "), std::string::npos) << bar;
  EXPECT_NE(bar.find("Epoch 2/2"), std::string::npos) << bar;
  ::testing::internal::CaptureStdout();
  m.fit(train.x, train.y, {.batch_size = 16, .epochs = 1, .verbose = 2});
  const std::string line = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(line.find("Epoch 1/1\n - "), std::string::npos) << line;
  EXPECT_EQ(line.find("["), std::string::npos) << "verbose 2 prints no bar: " << line;
  ::testing::internal::CaptureStdout();
  m.fit(train.x, train.y, {.batch_size = 16, .epochs = 1, .verbose = 0});
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
}

TEST(Sequential, EveryBatchIsVisitedOnceAndTheLastSmallerOneIsUsed) {
  Blobs train = make_blobs(50, 3);
  Sequential m = small_model();
  m.compile({.loss = "mse", .optimizer = "sgd"});
  std::vector<double> sizes;
  auto counter = std::make_shared<LambdaCallback>(LambdaCallbackOptions{
      .on_batch_end = [&](int64_t, const Logs& logs) { sizes.push_back(logs.at("size")); }});
  m.fit(train.x, train.y, {.batch_size = 16, .epochs = 2, .verbose = 0, .callbacks = {counter}});
  EXPECT_EQ(sizes, (std::vector<double>{16, 16, 16, 2, 16, 16, 16, 2}));
}

TEST(Sequential, TrainingIsDeterministicAndShufflingDependsOnTheSeed) {
  Blobs train = make_blobs(120, 4);
  auto train_once = [&](uint64_t shuffle_seed, int threads) {
    Sequential m({.seed = 7, .num_threads = threads});
    m.add(Dense(16, {.input_dim = 4, .activation = "relu"}));
    m.add(Dropout(0.3));
    m.add(Dense(3, {.activation = "softmax"}));
    m.compile({.loss = "categorical_crossentropy", .optimizer = "adam"});
    m.fit(train.x, train.y, {.batch_size = 10, .epochs = 2, .verbose = 0, .seed = shuffle_seed});
    return m.get_weights()[0];
  };
  EXPECT_TRUE(train_once(1, 1).bitwise_equal(train_once(1, 2))) << "same seed, any thread count: same bits";
  EXPECT_FALSE(train_once(1, 1).bitwise_equal(train_once(2, 1))) << "the shuffle seed changes the batches";
}

TEST(Sequential, DropoutIsActiveOnlyWhileTraining) {
  Sequential m;
  m.add(Dense(8, {.input_dim = 4, .kernel_initializer = "ones"}));
  m.add(Dropout(0.5));
  m.compile({.loss = "mse", .optimizer = "sgd"});
  Tensor x = Tensor::ones(DType::kFloat32, {64, 4});
  EXPECT_TRUE(m.predict(x).bitwise_equal(m.predict(x))) << "no dropout at inference";
  testing::expect_near(m.predict(x).slice_rows(0, 1), {1, 8}, std::vector<double>(8, 4.0));
  // Training loss against the no-dropout output differs from the evaluation loss.
  Tensor y = Tensor::fill(DType::kFloat32, {64, 8}, 4.0);
  EXPECT_NEAR(m.test_on_batch(x, y)[0], 0.0, 1e-9);
  EXPECT_GT(m.train_on_batch(x, y)[0], 1.0);
}

TEST(Sequential, BadInputIsRefusedBeforeTrainingWithTheModelUnchanged) {
  Blobs data = make_blobs(30, 5);
  Sequential m = small_model();
  expect_error([&] { m.fit(data.x, data.y); }, {"fit", "compile"});
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  const std::vector<Tensor> before = m.get_weights();
  expect_error([&] { m.fit(data.x, data.y.slice_rows(0, 29)); }, {"30 samples", "29"});
  expect_error([&] { m.fit(Tensor::zeros(DType::kFloat32, {30, 5}), data.y); }, {"[30,5]", "[?,4]", "dense_1"});
  expect_error([&] { m.fit(data.x, data.labels); }, {"y has shape [30]", "to_categorical"});
  Tensor not_one_hot = data.y.copy();
  not_one_hot.at<float>({3, 0}) = 1;
  not_one_hot.at<float>({3, 1}) = 1;
  expect_error([&] { m.fit(data.x, not_one_hot); }, {"row 3", "not one-hot"});
  expect_error([&] { m.fit(data.x.slice_rows(0, 0), data.y.slice_rows(0, 0)); }, {"no samples"});
  expect_error([&] { m.fit(data.x, data.y, {.batch_size = 0}); }, {"batch_size", "0"});
  Tensor nan_x = data.x.copy();
  nan_x.at<float>({7, 2}) = std::nanf("");
  expect_error([&] { m.fit(nan_x, data.y); }, {"NaN", "sample 7"});
  Sequential sparse = small_model();
  sparse.compile({.loss = "sparse_categorical_crossentropy", .optimizer = "adam"});
  Tensor bad_labels = data.labels.copy();
  bad_labels.data<int32_t>()[4] = 3;
  expect_error([&] { sparse.fit(data.x, bad_labels); }, {"label 3", "sample 4", "3 classes"});
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(before[i].bitwise_equal(m.get_weights()[i]));
}

TEST(Sequential, UnknownNamesAndBadLayersAreClearErrors) {
  expect_error([] { Dense(3, {.activation = "swish"}); }, {"unknown activation 'swish'", "relu", "hard_sigmoid"});
  expect_error([] { Dense(3, {.kernel_initializer = "xavier"}); }, {"unknown initializer 'xavier'", "glorot_uniform"});
  expect_error([] { Dense(0); }, {"units"});
  expect_error([] { Dropout(1.5); }, {"rate"});
  Sequential m = small_model();
  expect_error([&] { m.compile({.loss = "cross_entropy"}); }, {"unknown loss", "categorical_crossentropy"});
  expect_error([&] { m.compile({.loss = "mse", .optimizer = "adamw"}); }, {"unknown optimizer", "Adam"});
  expect_error([&] { m.compile({.loss = "mse", .metrics = {"f1"}}); }, {"unknown metric 'f1'", "accuracy"});
  Sequential no_input;
  no_input.add(Dense(3));
  expect_error([&] { no_input.build(); }, {"first layer", "input_dim"});
  Sequential empty;
  expect_error([&] { empty.predict(Tensor::zeros(DType::kFloat32, {1, 1})); }, {"no layers"});
}

TEST(Sequential, ActivationsByName) {
  for (const std::string& a : activations::names()) {
    Sequential m;
    m.add(Dense(3, {.input_dim = 2, .activation = a}));
    Tensor out = m.predict(Tensor::uniform(DType::kFloat32, {4, 2}, -1, 1, 3));
    for (float v : out.flat<float>()) EXPECT_TRUE(std::isfinite(v)) << a;
  }
}

TEST(Sequential, FlattenReshapeAndInputLayers) {
  Sequential m;
  m.add(Input({2, 3}));
  m.add(Flatten());
  m.add(Dense(4));
  m.add(Reshape({2, 2}));
  m.add(Flatten());
  Tensor out = m.predict(Tensor::ones(DType::kFloat32, {5, 2, 3}));
  EXPECT_EQ(out.shape(), (Shape{5, 4}));
  Sequential f;
  f.add(Flatten({.input_shape = {28, 28}}));
  f.add(Dense(10, {.activation = "softmax"}));
  EXPECT_EQ(f.predict(Tensor::zeros(DType::kFloat32, {2, 28, 28})).shape(), (Shape{2, 10}));
}

TEST(SaveLoad, ReloadedModelPredictsBitwiseIdentically) {
  Blobs data = make_blobs(60, 6);
  Sequential m = small_model();
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  m.fit(data.x, data.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  const std::string path = temp_path("model.horn");
  m.save(path);
  Sequential again = load_model(path);
  EXPECT_TRUE(m.predict(data.x).bitwise_equal(again.predict(data.x)));
  EXPECT_EQ(again.evaluate(data.x, data.y), m.evaluate(data.x, data.y));
  EXPECT_TRUE(again.compiled());
  EXPECT_FALSE(std::ifstream(path + ".tmp").good()) << "no temporary file left behind";
}

TEST(SaveLoad, ResumedTrainingContinuesExactlyAsUninterruptedTraining) {
  Blobs data = make_blobs(60, 7);
  auto make = [] {
    Sequential m({.seed = 3});
    m.add(Dense(8, {.input_dim = 4, .activation = "tanh"}));
    m.add(Dropout(0.25));
    m.add(Dense(3, {.activation = "softmax"}));
    m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
    return m;
  };
  Sequential straight = make();
  straight.fit(data.x, data.y, {.batch_size = 8, .epochs = 4, .verbose = 0});
  Sequential first = make();
  first.fit(data.x, data.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  const std::string path = temp_path("resume.horn");
  first.save(path);
  Sequential resumed = load_model(path);
  resumed.fit(data.x, data.y, {.batch_size = 8, .epochs = 4, .verbose = 0, .initial_epoch = 2});
  const auto a = straight.get_weights(), b = resumed.get_weights();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "weight " << i;
}

// Doubles are saved exactly: printed to 6 digits, the rate would reload as 0.123457 and the
// resumed training would drop different units.
TEST(SaveLoad, DoublesInLayerAndOptimizerConfigsReloadBitwiseEqual) {
  constexpr double kRate = 0.1234567891234, kLearningRate = 0.00123456789012345;
  Blobs data = make_blobs(60, 10);
  auto make = [&] {
    Sequential m({.seed = 5});
    m.add(Dense(8, {.input_dim = 4, .activation = "tanh"}));
    m.add(Dropout(kRate));
    m.add(Dense(3, {.activation = "softmax"}));
    m.compile({.loss = "categorical_crossentropy",
               .optimizer = optimizers::Adam({.learning_rate = kLearningRate})});
    return m;
  };
  Sequential straight = make();
  straight.fit(data.x, data.y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  Sequential first = make();
  first.fit(data.x, data.y, {.batch_size = 8, .epochs = 1, .verbose = 0});
  const std::string path = temp_path("exact.horn"), again_path = temp_path("exact_again.horn");
  first.save(path);
  Sequential reloaded = load_model(path);
  const double rate = std::stod(reloaded.layers()[1]->config().at("rate"));
  EXPECT_EQ(std::bit_cast<uint64_t>(rate), std::bit_cast<uint64_t>(kRate)) << rate;
  reloaded.save(again_path);  // writes the reloaded optimizer's config
  const double learning_rate = std::stod(read_model_file(again_path).settings.at("optimizer.learning_rate"));
  EXPECT_EQ(std::bit_cast<uint64_t>(learning_rate), std::bit_cast<uint64_t>(kLearningRate)) << learning_rate;
  reloaded.fit(data.x, data.y, {.batch_size = 8, .epochs = 2, .verbose = 0, .initial_epoch = 1});
  const auto a = straight.get_weights(), b = reloaded.get_weights();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "weight " << i;
}

TEST(SaveLoad, WeightsOnly) {
  Sequential a = small_model(1), b = small_model(2);
  const std::string path = temp_path("weights.horn");
  a.save_weights(path);
  b.load_weights(path);
  EXPECT_TRUE(a.get_weights()[0].bitwise_equal(b.get_weights()[0]));
  expect_error([&] { load_model(path); }, {"only weights"});
  Sequential other;
  other.add(Dense(2, {.input_dim = 4}));
  expect_error([&] { other.load_weights(path); }, {"weight"});
  Sequential prefix;  // the same first layer, but fewer layers: not a partial load
  prefix.add(Dense(16, {.input_dim = 4, .activation = "relu"}));
  expect_error([&] { prefix.load_weights(path); }, {"holds 4 weight tensors", "this model has 2"});
}

TEST(SaveLoad, CorruptTruncatedOrWrongVersionFilesFailClearly) {
  Sequential m = small_model();
  m.compile({.loss = "mse", .optimizer = "sgd"});
  const std::string path = temp_path("good.horn");
  m.save(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(temp_path(name), std::ios::binary) << content;
    return temp_path(name);
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  expect_error([&] { load_model(write("flipped.horn", flipped)); }, {"flipped.horn", "checksum mismatch"});
  expect_error([&] { load_model(write("short.horn", bytes.substr(0, bytes.size() - 10))); }, {"short.horn", "truncated"});
  std::string newer = bytes;
  newer[8] = 9;
  expect_error([&] { load_model(write("newer.horn", newer)); }, {"newer.horn", "version 9"});
  expect_error([&] { load_model(write("text.horn", "hello, world")); }, {"text.horn", "not a Horn model"});
  expect_error([&] { load_model(temp_path("missing.horn")); }, {"missing.horn", "cannot open"});
}

TEST(Callbacks, EarlyStoppingCheckpointCsvAndHistory) {
  Blobs train = make_blobs(90, 8), val = make_blobs(30, 9);
  Sequential m = small_model();
  m.compile({.loss = "categorical_crossentropy", .optimizer = "sgd", .metrics = {"accuracy"}});
  // A monitor that never improves stops training after `patience` more epochs.
  auto stopper = std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "val_loss", .min_delta = 100, .patience = 2});
  const std::string csv = temp_path("log.csv");
  auto logger = std::make_shared<CSVLogger>(csv);
  auto checkpoint = std::make_shared<ModelCheckpoint>(temp_path("ckpt.{epoch:02d}.horn"));
  History h = m.fit(train.x, train.y,
                    {.batch_size = 10, .epochs = 10, .verbose = 0, .callbacks = {stopper, logger, checkpoint},
                     .validation_data = std::make_pair(val.x, val.y)});
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(stopper->stopped_epoch(), 2);
  EXPECT_EQ(h.history.count("val_accuracy"), 1u);
  EXPECT_TRUE(std::ifstream(temp_path("ckpt.03.horn")).good());
  EXPECT_FALSE(std::ifstream(temp_path("ckpt.04.horn")).good());
  std::ifstream log(csv);
  std::string header, line;
  std::getline(log, header);
  EXPECT_EQ(header, "epoch,accuracy,loss,val_accuracy,val_loss");
  int rows = 0;
  while (std::getline(log, line)) ++rows;
  EXPECT_EQ(rows, 3);
  EXPECT_EQ(format_checkpoint_path("w.{epoch:03d}-{val_loss:.2f}.horn", 7, {{"val_loss", 0.12345}}), "w.007-0.12.horn");
}

TEST(Callbacks, EarlyStoppingRestoresBestWeightsAndValidationSplitHoldsOutTheTail) {
  Blobs train = make_blobs(100, 10);
  Sequential m = small_model();
  m.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::SGD({.learning_rate = 0.5})});
  std::vector<std::vector<Tensor>> per_epoch;
  auto recorder = std::make_shared<LambdaCallback>(LambdaCallbackOptions{
      .on_epoch_end = [&](int, const Logs&) { per_epoch.push_back(m.get_weights()); }});
  auto stopper = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "loss", .min_delta = 10, .patience = 1, .restore_best_weights = true});
  History h = m.fit(train.x, train.y, {.batch_size = 20, .epochs = 5, .verbose = 0, .callbacks = {recorder, stopper},
                                       .validation_split = 0.2});
  ASSERT_EQ(h.epoch.size(), 2u);
  EXPECT_TRUE(m.get_weights()[0].bitwise_equal(per_epoch[0][0])) << "weights of the best (first) epoch restored";
  EXPECT_EQ(h.history.count("val_loss"), 1u);
}

}  // namespace
}  // namespace horn::keras
