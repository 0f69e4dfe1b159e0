// TensorFlow.js Layers files against TensorFlow.js itself (tools/tfjs_peer/tfjs_peer.js, pure
// JavaScript CPU backend): Horn predicts what TensorFlow.js predicted for models it trained,
// and TensorFlow.js predicts what Horn predicted for models Horn trained and exported.
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "keras_api/keras.h"
#include "keras_api/model_formats.h"
#include "tests/keras_api/horn_models.h"
#include "tests/keras_api/tfjs_peer_util.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::max_abs_diff;
using testing::read_io_json;
using testing::temp_dir;
using test_models::horn_cnn;
using test_models::horn_mlp;
using test_models::one_hot_labels;
using test_models::random_tensor;

constexpr double kTolerance = 1e-5;  // the bound on |Horn - TensorFlow.js|
const char* const kModels[] = {"mlp", "cnn", "cnn_flat", "cnn_gmax", "functional"};

// Loads <dir>/<model> and checks Horn's predictions against the io.json TensorFlow.js wrote.
void expect_predicts_like_tfjs(const std::string& dir, const std::string& model_name) {
  SCOPED_TRACE(model_name);
  const std::string model_dir = dir + "/" + model_name;
  auto [x, y] = read_io_json(model_dir + "/io.json");
  Sequential model = load_model(model_dir);
  const double diff = max_abs_diff(model.predict(x), y);
  std::cout << model_name << ": max |Horn - TensorFlow.js| = " << diff << "\n";
  EXPECT_LE(diff, kTolerance);
}

TEST(TfjsFormat, PredictsLikeTensorFlowJsOnCommittedModels) {
  for (const char* m : kModels) expect_predicts_like_tfjs(testing::runfile("tests/keras_api/testdata/tfjs"), m);
}

TEST(TfjsFormat, PredictsLikeTensorFlowJsOnModelsItTrainsNow) {
  const std::string dir = temp_dir() + "/fresh_tfjs";
  ASSERT_TRUE(testing::run_tfjs_peer("make-fixtures '" + dir + "'"));
  for (const char* m : kModels) expect_predicts_like_tfjs(dir, m);
}

TEST(TfjsFormat, ReadsLayersAndTrainingConfig) {
  const std::string dir = testing::runfile("tests/keras_api/testdata/tfjs");
  Sequential mlp = load_model(dir + "/mlp/model.json");  // the file itself, or its directory
  ASSERT_EQ(mlp.layers().size(), 10u);
  EXPECT_EQ(mlp.layers()[0]->name(), "dense_Dense1");
  EXPECT_EQ(mlp.layers()[2]->type(), "Dropout");
  EXPECT_EQ(mlp.layers()[6]->type(), "Activation");
  test_models::expect_fixture_mlp_compiled(mlp);

  Sequential functional = load_model(dir + "/functional");
  ASSERT_EQ(functional.layers().size(), 3u);
  EXPECT_EQ(functional.layers()[0]->type(), "InputLayer");
  const ModelFile f = functional.to_model_file();
  EXPECT_EQ(f.settings.at("optimizer"), "SGD");  // TensorFlow.js's Momentum optimizer
  EXPECT_EQ(std::stod(f.settings.at("optimizer.momentum")), 0.9);
  EXPECT_EQ(f.settings.at("metrics"), "");

  // A loaded model trains on (fresh optimizer state: TensorFlow.js's is not imported).
  auto [x, y] = read_io_json(dir + "/functional/io.json");
  EXPECT_TRUE(std::isfinite(functional.train_on_batch(x, y)[0]));
}

void expect_tfjs_predicts_like_horn(Sequential model, const Shape& x_shape, const std::string& name) {
  SCOPED_TRACE(name);
  const int64_t n = x_shape.dim(0);
  const Tensor x = random_tensor(x_shape, 3);
  const Tensor y = one_hot_labels(n, 3);
  model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  const Tensor horn = model.predict(x);
  const std::string dir = temp_dir() + "/" + name + "/";
  model.save(dir);  // a path ending in "/": a TensorFlow.js directory
  ASSERT_TRUE(std::filesystem::exists(dir + "model.json"));
  ASSERT_TRUE(std::filesystem::exists(dir + "group1-shard1of1.bin"));

  testing::write_io_json(dir + "in.json", x, y);
  ASSERT_TRUE(testing::run_tfjs_peer("predict '" + dir + "' '" + dir + "in.json' '" + dir + "out.json'"));
  const double diff = max_abs_diff(read_io_json(dir + "out.json").second, horn);
  std::cout << name << ": max |TensorFlow.js - Horn| = " << diff << "\n";
  EXPECT_LE(diff, kTolerance);
  // Its trainingConfig compiles the model in TensorFlow.js, which trains on.
  EXPECT_TRUE(testing::run_tfjs_peer("load-train '" + dir + "' '" + dir + "in.json'"));
  // And Horn reads its own export back bitwise.
  Sequential again = load_model(dir);
  const Tensor reloaded = again.predict(x);
  EXPECT_EQ(max_abs_diff(reloaded, horn), 0.0);
}

TEST(TfjsFormat, TensorFlowJsPredictsLikeHornOnAnExportedMlp) {
  expect_tfjs_predicts_like_horn(horn_mlp(), Shape{16, 5}, "horn_mlp");
}

TEST(TfjsFormat, TensorFlowJsPredictsLikeHornOnAnExportedCnn) {
  expect_tfjs_predicts_like_horn(horn_cnn(), Shape{16, 9, 8, 2}, "horn_cnn");
}

// TensorFlow.js reads Horn's regularizers (L1L2 objects) and trains with them.
TEST(TfjsFormat, TensorFlowJsLoadsAndTrainsAnExportedRegularizedMlp) {
  Sequential model(SequentialOptions{.name = "horn_regularized", .seed = 5});
  model.add(Dense(8, {.activation = "relu", .kernel_regularizer = regularizers::l1_l2(1e-3, 1e-2),
                      .bias_regularizer = regularizers::l2(1e-3), .input_shape = {5}}));
  model.add(Dense(3, {.activation = "softmax", .kernel_regularizer = regularizers::l1(1e-3)}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  expect_tfjs_predicts_like_horn(std::move(model), Shape{16, 5}, "horn_regularized");
}

TEST(TfjsFormat, SaveChoosesTheFormatByName) {
  EXPECT_EQ(format_for_saving("m.horn"), ModelFormat::kHorn);
  EXPECT_EQ(format_for_saving("m"), ModelFormat::kHorn);
  EXPECT_EQ(format_for_saving("out/"), ModelFormat::kTfjs);
  EXPECT_EQ(format_for_saving("out/model.json"), ModelFormat::kTfjs);
  EXPECT_EQ(format_for_saving("m.h5"), ModelFormat::kKerasH5);
  EXPECT_EQ(format_for_saving(temp_dir()), ModelFormat::kHorn);  // a directory by mistake: an error
  EXPECT_EQ(tfjs_model_json_path("out/"), "out/model.json");
  EXPECT_EQ(tfjs_model_json_path("out"), "out/model.json");

  Sequential model = horn_mlp();
  const std::string json_path = temp_dir() + "/named/my_model.json";
  model.save(json_path);
  EXPECT_TRUE(std::filesystem::exists(temp_dir() + "/named/group1-shard1of1.bin"));
  EXPECT_EQ(format_of_saved_model(json_path), ModelFormat::kTfjs);
  Sequential again = load_model(json_path);
  const Tensor x = random_tensor(Shape{4, 5}, 1);
  EXPECT_EQ(max_abs_diff(again.predict(x), model.predict(x)), 0.0);
  // The .horn format is unchanged for other names.
  model.save(temp_dir() + "/plain.horn");
  EXPECT_EQ(format_of_saved_model(temp_dir() + "/plain.horn"), ModelFormat::kHorn);
}

TEST(TfjsFormat, ExportRefusesWhatTensorFlowJsLacks) {
  Sequential model(SequentialOptions{.seed = 1});
  model.add(Dense(2, {.input_dim = 3}));
  model.compile({.loss = "mse", .optimizer = "nadam"});
  testing::expect_error([&] { model.save(temp_dir() + "/nadam/"); }, {"TensorFlow.js has no Nadam optimizer"});
  EXPECT_FALSE(std::filesystem::exists(temp_dir() + "/nadam/model.json"));
  Sequential exp(SequentialOptions{.seed = 1});
  exp.add(Dense(2, {.input_dim = 3, .activation = "exponential", .name = "growth"}));
  testing::expect_error([&] { exp.save(temp_dir() + "/exp/"); }, {"layer 'growth'", "\"exponential\""});
}

}  // namespace
}  // namespace horn::keras
