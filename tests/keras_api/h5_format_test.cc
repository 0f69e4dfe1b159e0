// Keras 2 .h5 model files: fixtures written with h5py in Keras's layouts
// (testdata/make_h5_fixtures.py) from models whose predictions TensorFlow.js computed, and
// Horn's own .h5 export read back by a Keras-style h5py reader (keras_h5_check.py).
#include <hdf5.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "keras_api/h5_format.h"
#include "keras_api/hdf5_file.h"
#include "keras_api/keras.h"
#include "keras_api/model_formats.h"
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

TEST(KerasH5, PredictsLikeTensorFlowJsInEveryLayout) {
  // h5 fixture -> the TensorFlow.js model it was written from.
  const std::pair<const char*, const char*> fixtures[] = {{"mlp", "mlp"},
                                                          {"cnn", "cnn"},
                                                          {"cnn_flat", "cnn_flat"},
                                                          {"functional", "functional"},
                                                          {"cnn_keras3", "cnn"}};
  for (const auto& [h5, tfjs] : fixtures) {
    SCOPED_TRACE(h5);
    const std::string path = runfile(std::string("tests/keras_api/testdata/h5/") + h5 + ".h5");
    EXPECT_EQ(format_of_saved_model(path), ModelFormat::kKerasH5);
    auto [x, y] = read_io_json(runfile(std::string("tests/keras_api/testdata/tfjs/") + tfjs + "/io.json"));
    Sequential model = load_model(path);
    const double diff = max_abs_diff(model.predict(x), y);
    std::cout << h5 << ".h5: max |Horn - TensorFlow.js| = " << diff << "\n";
    EXPECT_LE(diff, kTolerance);
  }
}

TEST(KerasH5, ReadsTheTrainingConfig) {
  Sequential mlp = load_model(runfile("tests/keras_api/testdata/h5/mlp.h5"));
  test_models::expect_fixture_mlp_compiled(mlp);
  Sequential k3 = load_model(runfile("tests/keras_api/testdata/h5/cnn_keras3.h5"));
  EXPECT_EQ(k3.to_model_file().settings.at("optimizer"), "SGD");
  EXPECT_EQ(k3.layers()[0]->type(), "InputLayer");
}

// Runs the Keras-style h5py reader on `path`; its JSON, or null after a test failure.
json keras_reads(const std::string& path) {
  const std::string out = path + ".check.json", log = path + ".check.log";
  const std::string command = "/usr/bin/python3 '" + runfile("tests/keras_api/keras_h5_check.py") + "' '" + path +
                              "' '" + out + "' >'" + log + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "the h5py check failed (python3-h5py is installed by tools/setup.sh): " << command << "\n"
                  << text.str();
    return nullptr;
  }
  std::ifstream in(out);
  return json::parse(in);
}

void expect_keras_reads_like_horn(Sequential model, const Shape& x_shape, const std::string& name) {
  SCOPED_TRACE(name);
  const Tensor x = test_models::random_tensor(x_shape, 5);
  model.fit(x, test_models::one_hot_labels(x_shape.dim(0), 3), {.batch_size = 8, .epochs = 2, .verbose = 0});
  const std::string path = temp_dir() + "/" + name + ".h5";
  model.save(path);
  const json keras = keras_reads(path);
  ASSERT_FALSE(keras.is_null());
  EXPECT_EQ(keras["keras_version"], "2.13.1");
  EXPECT_EQ(keras["backend"], "tensorflow");
  EXPECT_EQ(keras["model_config"]["class_name"], "Sequential");
  EXPECT_EQ(keras["training_config"]["optimizer_config"]["class_name"], model.to_model_file().settings.at("optimizer"));
  // Every weight, in Keras's order per layer, bitwise.
  test_models::expect_checker_read_the_weights(keras["layers"], model);
  // And Horn reads its own .h5 back bitwise.
  EXPECT_EQ(max_abs_diff(load_model(path).predict(x), model.predict(x)), 0.0);
}

TEST(KerasH5, KerasReadsHornsExportedMlp) {
  expect_keras_reads_like_horn(test_models::horn_mlp(), Shape{16, 5}, "horn_mlp");
}

TEST(KerasH5, KerasReadsHornsExportedCnn) {
  expect_keras_reads_like_horn(test_models::horn_cnn(), Shape{16, 9, 8, 2}, "horn_cnn");
}

TEST(KerasH5, LongNameListsAreChunkedAsKerasChunksThem) {
  Sequential model(SequentialOptions{.name = "many_layers"});
  model.add(Dense(3, {.input_dim = 2, .name = std::string(200, 'd')}));
  for (int i = 0; i < 330; ++i)  // 331 names of ~200 bytes: more than an object header's 64512
    model.add(Activation("linear", {.name = std::string(196, 'a') + std::to_string(1000 + i)}));
  const std::string path = temp_dir() + "/many_layers.h5";
  model.save(path);
  const json keras = keras_reads(path);
  ASSERT_FALSE(keras.is_null());
  EXPECT_EQ(keras["chunked"], json::array({"/model_weights:layer_names"}));
  EXPECT_EQ(keras["layers"].size(), 331u);
  const Tensor x(Shape{1, 2}, std::vector<float>{1, -2});
  EXPECT_EQ(max_abs_diff(load_model(path).predict(x), model.predict(x)), 0.0);
}

TEST(KerasH5, ConvertsTensorFlowJsToH5KeepingPredictions) {
  Sequential from_tfjs = load_model(runfile("tests/keras_api/testdata/tfjs/cnn"));
  const std::string path = temp_dir() + "/converted.h5";
  from_tfjs.save(path);
  auto [x, y] = read_io_json(runfile("tests/keras_api/testdata/tfjs/cnn/io.json"));
  EXPECT_LE(max_abs_diff(load_model(path).predict(x), y), kTolerance);
}

// ---- hostile and unsupported files ----

std::string write_bytes(const std::string& name, const std::vector<char>& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// A valid .h5 of a Dense(2) on 3 inputs; `edit` changes it through HDF5's C API.
std::string edited_h5(const std::string& name, const std::function<void(hid_t)>& edit) {
  Sequential model(SequentialOptions{.seed = 3});
  model.add(Dense(2, {.input_dim = 3, .name = "d"}));
  const std::string path = write_bytes(name, serialize_keras_h5(model.to_model_file()));
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  EXPECT_GE(file, 0);
  edit(file);
  H5Fclose(file);
  return path;
}

void replace_kernel(hid_t file, hid_t type, hid_t dcpl, bool write) {
  H5Ldelete(file, "model_weights/d/d/kernel:0", H5P_DEFAULT);
  const hsize_t dims[2] = {3, 2};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t d = H5Dcreate2(file, "model_weights/d/d/kernel:0", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  const double values[6] = {1, 2, 3, 4, 5, 6};
  if (write) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(d);
  H5Sclose(space);
}

TEST(KerasH5Hostile, BrokenFilesGetClearErrors) {
  std::vector<char> garbage(kHdf5Magic, kHdf5Magic + 8);
  garbage.resize(600, 'x');
  const std::string g = write_bytes("garbage.h5", garbage);
  expect_error([&] { load_model(g); }, {"Keras HDF5 model '" + g + "'", "not an HDF5 file"});

  Sequential model(SequentialOptions{.seed = 3});
  model.add(Dense(2, {.input_dim = 3, .name = "d"}));
  std::vector<char> bytes = serialize_keras_h5(model.to_model_file());
  bytes.resize(bytes.size() / 2);
  const std::string t = write_bytes("truncated.h5", bytes);
  expect_error([&] { load_model(t); }, {"Keras HDF5 model '" + t + "'"});
}

TEST(KerasH5Hostile, LayoutProblemsNameWhatIsWrong) {
  const std::string no_config = edited_h5("no_config.h5", [](hid_t f) { H5Adelete(f, "model_config"); });
  expect_error([&] { load_model(no_config); }, {no_config, "no model_config", "only weights"});
  const std::string bad_json = edited_h5("bad_json.h5", [](hid_t f) {
    H5Adelete(f, "model_config");
    hdf5::write_strings(f, "model_config", {"{\"class_name\": "}, hdf5::StringKind::kFixed, true);
  });
  expect_error([&] { load_model(bad_json); }, {bad_json, "'model_config' is not valid JSON"});
  const std::string no_weights = edited_h5("no_weights.h5", [](hid_t f) { H5Ldelete(f, "model_weights", H5P_DEFAULT); });
  expect_error([&] { load_model(no_weights); }, {no_weights, "the group 'model_weights' is missing"});
  const std::string names = edited_h5("names.h5", [](hid_t f) {
    const hid_t g = H5Gopen2(f, "model_weights/d", H5P_DEFAULT);
    H5Adelete(g, "weight_names");
    hdf5::write_strings(g, "weight_names", {"d/kernel:0"}, hdf5::StringKind::kFixed, false);
    H5Gclose(g);
  });
  expect_error([&] { load_model(names); }, {names, "layer 'd' (Dense) stores 1 weights; its config needs 2"});
}

TEST(KerasH5Hostile, DatasetsAreCheckedBeforeReading) {
  const std::string f64 = edited_h5("f64.h5", [](hid_t f) { replace_kernel(f, H5T_IEEE_F64LE, H5P_DEFAULT, true); });
  expect_error([&] { load_model(f64); }, {f64, "d/kernel:0' is not float32"});
  const std::string gz = edited_h5("gzip.h5", [](hid_t f) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk[2] = {3, 2};
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 6);
    replace_kernel(f, H5T_IEEE_F32LE, dcpl, true);
    H5Pclose(dcpl);
  });
  expect_error([&] { load_model(gz); }, {gz, "compressed or filtered"});
  const std::string unwritten = edited_h5("unwritten.h5", [](hid_t f) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk[2] = {3, 2};
    H5Pset_chunk(dcpl, 2, chunk);
    replace_kernel(f, H5T_IEEE_F32LE, dcpl, false);  // never written: no bytes stored
    H5Pclose(dcpl);
  });
  expect_error([&] { load_model(unwritten); }, {unwritten, "only 0 bytes are stored"});
}

TEST(KerasH5Hostile, Keras3HardSigmoidIsRefused) {
  const std::string k3 = edited_h5("k3.h5", [](hid_t f) {
    H5Adelete(f, "keras_version");
    hdf5::write_strings(f, "keras_version", {"3.3.3"}, hdf5::StringKind::kVariable, true);
    std::vector<std::string> config = hdf5::read_strings(f, "model_config");
    json c = json::parse(config[0]);
    c["config"]["layers"][0]["config"]["activation"] = "hard_sigmoid";
    H5Adelete(f, "model_config");
    hdf5::write_strings(f, "model_config", {c.dump()}, hdf5::StringKind::kVariable, true);
  });
  expect_error([&] { load_model(k3); }, {"layer 'd' (Dense)", "Keras 3's hard_sigmoid"});
}

}  // namespace
}  // namespace horn::keras
