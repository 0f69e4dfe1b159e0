// Keras 3 .keras model files: fixtures written with h5py and zipfile in Keras 3's layouts
// (testdata/make_h5_fixtures.py) from models whose predictions TensorFlow.js computed, and
// Horn's own .keras export read back by a Keras-3-style reader (keras_zip_check.py).
#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>

#include "keras_api/keras.h"
#include "keras_api/keras3_format.h"
#include "keras_api/model_formats.h"
#include "keras_api/zip_archive.h"
#include "tests/keras_api/horn_models.h"
#include "tests/keras_api/tfjs_peer_util.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using json = nlohmann::json;
using testing::expect_error;
using testing::max_abs_diff;
using testing::read_io_json;
using testing::runfile;
using testing::temp_dir;

constexpr double kTolerance = 1e-5;

std::string fixture(const std::string& name) { return runfile("tests/keras_api/testdata/keras/" + name + ".keras"); }

TEST(Keras3, PredictsLikeTensorFlowJsInEveryLayout) {
  // .keras fixture -> the TensorFlow.js model it was written from.
  const std::pair<const char*, const char*> fixtures[] = {
      {"cnn", "cnn"}, {"cnn_flat", "cnn_flat"}, {"functional", "functional"}, {"mlp_keras213", "mlp"}};
  // (mlp_keras213 keeps Keras 2's hard_sigmoid, which only a Keras 2 file may use.)
  for (const auto& [keras, tfjs] : fixtures) {
    SCOPED_TRACE(keras);
    EXPECT_EQ(format_of_saved_model(fixture(keras)), ModelFormat::kKeras3);
    auto [x, y] = read_io_json(runfile(std::string("tests/keras_api/testdata/tfjs/") + tfjs + "/io.json"));
    Sequential model = load_model(fixture(keras));
    const double diff = max_abs_diff(model.predict(x), y);
    std::cout << keras << ".keras: max |Horn - TensorFlow.js| = " << diff << "\n";
    EXPECT_LE(diff, kTolerance);
  }
}

TEST(Keras3, ReadsTheCompileConfig) {
  Sequential cnn = load_model(fixture("cnn"));  // a serialized SGD object
  ModelFile f = cnn.to_model_file();
  EXPECT_EQ(f.settings.at("loss"), "categorical_crossentropy");
  EXPECT_EQ(f.settings.at("metrics"), "accuracy");
  EXPECT_EQ(f.settings.at("optimizer"), "SGD");
  EXPECT_EQ(std::stod(f.settings.at("optimizer.learning_rate")), 0.05);
  EXPECT_EQ(cnn.layers()[0]->type(), "InputLayer");

  // "rmsprop" by name means Keras 3's defaults; the loss is a serialized MeanSquaredError.
  Sequential flat = load_model(fixture("cnn_flat"));
  f = flat.to_model_file();
  EXPECT_EQ(f.settings.at("optimizer"), "RMSprop");
  EXPECT_EQ(std::stod(f.settings.at("optimizer.learning_rate")), 0.001);
  EXPECT_EQ(std::stod(f.settings.at("optimizer.rho")), 0.9);
  EXPECT_EQ(f.settings.at("loss"), "mean_squared_error");
  EXPECT_EQ(flat.layers()[0]->type(), "Conv2D");  // its input shape came from the build config

  Sequential functional = load_model(fixture("functional"));
  f = functional.to_model_file();
  EXPECT_EQ(f.settings.at("optimizer"), "SGD");
  EXPECT_EQ(std::stod(f.settings.at("optimizer.momentum")), 0.9);

  Sequential mlp = load_model(fixture("mlp_keras213"));
  test_models::expect_fixture_mlp_compiled(mlp);
}

// Runs the Keras-3-style reader on `path`; its JSON, or null after a test failure.
json keras_reads(const std::string& path) {
  const std::string out = path + ".check.json", log = path + ".check.log";
  const std::string command = "/usr/bin/python3 '" + runfile("tests/keras_api/keras_zip_check.py") + "' '" + path +
                              "' '" + out + "' >'" + log + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "the zipfile/h5py check failed (python3-h5py is installed by tools/setup.sh): " << command
                  << "\n"
                  << text.str();
    return nullptr;
  }
  std::ifstream in(out);
  return json::parse(in);
}

// An MLP with what Keras 3 shares with Horn (no hard_sigmoid: Keras 3 redefined it).
Sequential keras3_mlp() {
  Sequential model(SequentialOptions{.name = "horn_mlp3", .seed = 42});
  model.add(Dense(12, {.activation = "tanh", .input_shape = {5}}));
  model.add(LeakyReLU({.alpha = 0.1}));  // on negative inputs: Keras 3 calls it negative_slope
  model.add(Dense(10, {.activation = "relu", .kernel_initializer = "he_uniform"}));
  model.add(Dropout(0.2));
  model.add(Dense(8, {.activation = "elu", .kernel_initializer = "truncated_normal"}));
  model.add(Dense(8, {.activation = "selu", .use_bias = false}));
  model.add(Activation("softsign"));
  model.add(Dense(3, {.activation = "softmax"}));
  model.compile({.loss = "categorical_crossentropy",
                 .optimizer = optimizers::Adam({.learning_rate = 0.002, .amsgrad = true}),
                 .metrics = {"accuracy"}});
  return model;
}

void expect_keras_reads_like_horn(Sequential model, const Shape& x_shape, const std::string& name) {
  SCOPED_TRACE(name);
  const Tensor x = test_models::random_tensor(x_shape, 5);
  model.fit(x, test_models::one_hot_labels(x_shape.dim(0), 3), {.batch_size = 8, .epochs = 2, .verbose = 0});
  const std::string path = temp_dir() + "/" + name + ".keras";
  model.save(path);
  EXPECT_EQ(format_of_saved_model(path), ModelFormat::kKeras3);
  const json keras = keras_reads(path);
  ASSERT_FALSE(keras.is_null());
  EXPECT_EQ(keras["keras_version"], "3.6.0");
  EXPECT_EQ(keras["entries"], json::array({"metadata.json", "config.json", "model.weights.h5"}));
  EXPECT_EQ(keras["compression"], json::array({0, 0, 0}));  // stored, as Keras writes them
  const json& layers = keras["config"]["config"]["layers"];
  EXPECT_EQ(layers[0]["class_name"], "InputLayer");
  EXPECT_EQ(keras["config"]["config"]["name"], name == "horn_cnn" ? "horn_cnn" : "horn_mlp3");
  const ModelFile file = model.to_model_file();
  const json& optimizer = keras["compile_config"]["optimizer"];
  EXPECT_EQ(optimizer["class_name"], file.settings.at("optimizer"));
  EXPECT_EQ(optimizer["config"]["learning_rate"].get<double>(), std::stod(file.settings.at("optimizer.learning_rate")));
  EXPECT_EQ(keras["compile_config"]["loss"], "categorical_crossentropy");
  // Every weight, in Keras's order per layer, bitwise.
  test_models::expect_checker_read_the_weights(keras["layers"], model);
  // Round trip: Horn reads its own .keras back (with the InputLayer Keras 3 stores), bitwise,
  // compiled with the same settings.
  Sequential again = load_model(path);
  EXPECT_EQ(max_abs_diff(again.predict(x), model.predict(x)), 0.0);
  const ModelFile back = again.to_model_file();
  for (const char* key : {"loss", "metrics", "optimizer", "optimizer.learning_rate"})
    EXPECT_EQ(back.settings.at(key), file.settings.at(key)) << key;
  EXPECT_EQ(again.layers().size(), model.layers().size() + 1);
  EXPECT_EQ(again.layers()[0]->type(), "InputLayer");
}

TEST(Keras3, KerasReadsHornsExportedMlp) {
  expect_keras_reads_like_horn(keras3_mlp(), Shape{16, 5}, "horn_mlp3");
}

TEST(Keras3, KerasReadsHornsExportedCnn) {
  expect_keras_reads_like_horn(test_models::horn_cnn(), Shape{16, 9, 8, 2}, "horn_cnn");
}

TEST(Keras3, AModelStartingWithInputKeepsItsOwnInputLayer) {
  Sequential model(SequentialOptions{.seed = 4});
  model.add(Input({3}, "features"));
  model.add(Dense(2, {.name = "d"}));
  const std::string path = temp_dir() + "/with_input.keras";
  model.save(path);
  Sequential again = load_model(path);
  ASSERT_EQ(again.layers().size(), 2u);
  EXPECT_EQ(again.layers()[0]->name(), "features");
  const Tensor x(Shape{1, 3}, std::vector<float>{1, -2, 0.5});
  EXPECT_EQ(max_abs_diff(again.predict(x), model.predict(x)), 0.0);
}

TEST(Keras3, ConvertsTensorFlowJsAndH5ToKerasKeepingPredictions) {
  for (const std::string from : {"tests/keras_api/testdata/tfjs/cnn", "tests/keras_api/testdata/h5/cnn.h5"}) {
    SCOPED_TRACE(from);
    const std::string path = temp_dir() + "/converted.keras";
    std::filesystem::remove(path);
    load_model(runfile(from)).save(path);
    auto [x, y] = read_io_json(runfile("tests/keras_api/testdata/tfjs/cnn/io.json"));
    EXPECT_LE(max_abs_diff(load_model(path).predict(x), y), kTolerance);
  }
}

TEST(Keras3, ExportRefusesWhatKeras3WouldComputeDifferently) {
  Sequential mlp = test_models::horn_mlp();  // hard_sigmoid
  const std::string path = temp_dir() + "/refused.keras";
  expect_error([&] { mlp.save(path); }, {"cannot write Keras model '" + path + "'", "hard_sigmoid"});
  EXPECT_FALSE(std::filesystem::exists(path));
  Sequential decayed(SequentialOptions{.seed = 1});
  decayed.add(Dense(2, {.input_dim = 3}));
  decayed.compile({.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = 0.1, .decay = 0.01})});
  expect_error([&] { decayed.save(path); }, {path, "Keras 3 has no SGD optimizer with decay"});
  EXPECT_FALSE(std::filesystem::exists(path));
}

// ---- hostile and unsupported files ----

std::string write_bytes(const std::string& name, const std::vector<char>& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

using Entries = std::map<std::string, std::vector<char>>;

// The entries of a fixture, changed by `edit`, zipped again as `name`.
std::string edited(const std::string& name, const std::string& from, const std::function<void(Entries&)>& edit) {
  const std::vector<char> bytes = file_bytes(fixture(from));
  const ziparchive::Reader zip(bytes, from);
  Entries entries;
  for (const std::string& n : zip.names()) entries[n] = zip.read(n);
  edit(entries);
  std::vector<std::pair<std::string, std::span<const char>>> list;
  for (const auto& [n, b] : entries) list.emplace_back(n, b);
  return write_bytes(name, ziparchive::write_stored(list));
}

void edit_config(Entries& e, const std::function<void(json&)>& edit) {
  json c = json::parse(e["config.json"].begin(), e["config.json"].end());
  edit(c);
  const std::string text = c.dump();
  e["config.json"].assign(text.begin(), text.end());
}

// model.weights.h5 changed through HDF5's C API.
void edit_weights(Entries& e, const std::function<void(hid_t)>& edit) {
  const std::string path = write_bytes("weights_edit.h5", e["model.weights.h5"]);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  edit(file);
  H5Fclose(file);
  e["model.weights.h5"] = file_bytes(path);
}

TEST(Keras3Hostile, BrokenArchivesGetClearErrors) {
  std::vector<char> bytes = file_bytes(fixture("cnn"));
  bytes.resize(bytes.size() / 2);
  const std::string t = write_bytes("truncated.keras", bytes);
  EXPECT_EQ(format_of_saved_model(t), ModelFormat::kKeras3);
  expect_error([&] { load_model(t); }, {"Keras model '" + t + "'", "not a zip archive"});

  std::vector<char> garbage(ziparchive::kZipMagic, ziparchive::kZipMagic + 4);
  garbage.resize(300, 'x');
  const std::string g = write_bytes("garbage.keras", garbage);
  expect_error([&] { load_model(g); }, {g, "not a zip archive"});

  // A flipped byte inside a stored entry: the CRC-32 check catches it.
  bytes = file_bytes(fixture("cnn"));
  const std::string marker = "\"optimizer\"";
  auto at = std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end());
  ASSERT_NE(at, bytes.end());
  at[1] = 'O';
  const std::string crc = write_bytes("crc.keras", bytes);
  expect_error([&] { load_model(crc); }, {crc, "config.json", "CRC"});
}

TEST(Keras3Hostile, MissingEntriesAreNamed) {
  const std::string no_config = edited("no_config.keras", "cnn", [](Entries& e) { e.erase("config.json"); });
  expect_error([&] { load_model(no_config); }, {no_config, "no 'config.json'"});
  const std::string no_weights = edited("no_weights.keras", "cnn", [](Entries& e) { e.erase("model.weights.h5"); });
  expect_error([&] { load_model(no_weights); }, {no_weights, "no 'model.weights.h5'"});
  const std::string npz = edited("npz.keras", "cnn", [](Entries& e) {
    e["model.weights.npz"] = e["model.weights.h5"];
    e.erase("model.weights.h5");
  });
  expect_error([&] { load_model(npz); }, {npz, "model.weights.npz"});
  const std::string bad_json = edited("bad_json.keras", "cnn", [](Entries& e) { e["config.json"].resize(40); });
  expect_error([&] { load_model(bad_json); }, {bad_json, "'config.json' is not valid JSON"});
  const std::string no_layer = edited("no_layer.keras", "cnn", [](Entries& e) {
    edit_weights(e, [](hid_t f) { H5Ldelete(f, "layers/conv2d_1", H5P_DEFAULT); });
  });
  expect_error([&] { load_model(no_layer); }, {no_layer, "layer 'conv2d_Conv2D2' (Conv2D)", "no group 'layers/conv2d_1/vars'"});
}

TEST(Keras3Hostile, WrongWeightsAreNamedBeforeAnythingIsBuilt) {
  const std::string extra = edited("extra.keras", "cnn", [](Entries& e) {
    edit_weights(e, [](hid_t f) {
      const hsize_t dims[1] = {5};
      const hid_t space = H5Screate_simple(1, dims, nullptr);
      H5Dclose(H5Dcreate2(f, "layers/dense/vars/2", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      H5Sclose(space);
    });
  });
  expect_error([&] { load_model(extra); }, {extra, "layer 'dense_Dense9' (Dense)", "holds 3 variables", "needs 2"});
  const std::string shape = edited("shape.keras", "cnn", [](Entries& e) {
    edit_weights(e, [](hid_t f) {
      H5Ldelete(f, "layers/dense/vars/0", H5P_DEFAULT);
      const hsize_t dims[2] = {4, 3};
      const hid_t space = H5Screate_simple(2, dims, nullptr);
      const hid_t d = H5Dcreate2(f, "layers/dense/vars/0", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      const std::vector<float> v(12, 1);
      H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      H5Dclose(d);
      H5Sclose(space);
    });
  });
  expect_error([&] { load_model(shape); }, {shape, "dense_Dense9", "[4,3]"});
  const std::string f64 = edited("f64.keras", "cnn", [](Entries& e) {
    edit_weights(e, [](hid_t f) {
      H5Ldelete(f, "layers/conv2d/vars/1", H5P_DEFAULT);
      const hsize_t dims[1] = {4};
      const hid_t space = H5Screate_simple(1, dims, nullptr);
      const double v[4] = {1, 2, 3, 4};
      const hid_t d = H5Dcreate2(f, "layers/conv2d/vars/1", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
      H5Dclose(d);
      H5Sclose(space);
    });
  });
  expect_error([&] { load_model(f64); }, {f64, "layer 'conv2d_Conv2D1' (Conv2D)", "not float32"});
}

TEST(Keras3Hostile, UnsupportedFeaturesAreRefusedByLayer) {
  const std::string lstm = edited("lstm.keras", "cnn", [](Entries& e) {
    edit_config(e, [](json& c) { c["config"]["layers"][3]["class_name"] = "LSTM"; });
  });
  expect_error([&] { load_model(lstm); }, {lstm, "layer 'zero_padding2d_ZeroPadding2D1' (LSTM)", "not supported"});
  const std::string custom = edited("custom.keras", "cnn", [](Entries& e) {
    edit_config(e, [](json& c) { c["config"]["layers"][12]["module"] = "my_project.layers"; });
  });
  expect_error([&] { load_model(custom); }, {custom, "layer 'dense_Dense9' (Dense)", "custom layer class", "my_project"});
  const std::string lora = edited("lora.keras", "cnn", [](Entries& e) {
    edit_config(e, [](json& c) { c["config"]["layers"][12]["config"]["lora_rank"] = 4; });
  });
  expect_error([&] { load_model(lora); }, {lora, "dense_Dense9", "LoRA"});
  const std::string policy = edited("policy.keras", "cnn", [](Entries& e) {
    edit_config(e, [](json& c) { c["config"]["layers"][1]["config"]["dtype"]["config"]["name"] = "mixed_float16"; });
  });
  expect_error([&] { load_model(policy); }, {policy, "conv2d_Conv2D1", "mixed_float16"});
  // Keras 3 redefined hard_sigmoid; the same model said to come from Keras 3 is refused.
  const std::string k3 = edited("hard_sigmoid.keras", "mlp_keras213", [](Entries& e) {
    const std::string meta = R"({"keras_version": "3.6.0", "date_saved": "2026-11-29@12:00:00"})";
    e["metadata.json"].assign(meta.begin(), meta.end());
  });
  expect_error([&] { load_model(k3); }, {k3, "layer 'dense_Dense6' (Dense)", "Keras 3's hard_sigmoid"});
  const std::string adagrad = edited("adagrad.keras", "cnn", [](Entries& e) {
    edit_config(e, [](json& c) { c["compile_config"]["optimizer"] = "adagrad"; });
  });
  expect_error([&] { load_model(adagrad); }, {adagrad, "initial_accumulator_value = 0.1"});
  const std::string accumulate = edited("accumulate.keras", "cnn", [](Entries& e) {
    edit_config(e, [](json& c) { c["compile_config"]["optimizer"]["config"]["gradient_accumulation_steps"] = 4; });
  });
  expect_error([&] { load_model(accumulate); }, {accumulate, "gradient accumulation"});
}

TEST(Keras3Hostile, AnEntryAnnouncingMoreThanDeflateCanGiveIsRefused) {
  // config.json's uncompressed size set to 4 GB in its local header and the central directory,
  // consistently: refused from the sizes, before anything is allocated.
  std::vector<char> bytes = file_bytes(fixture("cnn"));
  const std::string name = "config.json";
  const uint32_t huge = 0xF0000000u;
  for (const auto& [signature, size_at, name_at] : {std::tuple{"PK\x01\x02", 24, 46}, std::tuple{"PK\x03\x04", 22, 30}})
    for (size_t i = 0; i + name_at + name.size() <= bytes.size(); ++i)
      if (std::memcmp(&bytes[i], signature, 4) == 0 && std::memcmp(&bytes[i + name_at], name.data(), name.size()) == 0)
        std::memcpy(&bytes[i + size_at], &huge, 4);
  const std::string bomb = write_bytes("bomb.keras", bytes);
  expect_error([&] { load_model(bomb); }, {bomb, "'config.json' announces 4026531840 bytes", "more than deflate can give"});
  // Only the central directory changed: libzip's consistency check refuses the archive.
  bytes = file_bytes(fixture("cnn"));
  for (size_t i = 0; i + 46 + name.size() <= bytes.size(); ++i)
    if (std::memcmp(&bytes[i], "PK\x01\x02", 4) == 0 && std::memcmp(&bytes[i + 46], name.data(), name.size()) == 0)
      std::memcpy(&bytes[i + 24], &huge, 4);
  const std::string inconsistent = write_bytes("inconsistent.keras", bytes);
  expect_error([&] { load_model(inconsistent); }, {inconsistent, "inconsistent"});
}

}  // namespace
}  // namespace horn::keras
