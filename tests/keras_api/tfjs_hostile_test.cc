// Hostile and unsupported TensorFlow.js model files: clear errors naming the file and the
// layer or weight, sizes checked before allocating, nothing partly loaded.
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "keras_api/keras.h"
#include "keras_api/tfjs_format.h"
#include "tests/keras_api/tfjs_peer_util.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using json = nlohmann::json;
using testing::expect_error;

json dense(const std::string& name, int64_t units) {
  return {{"class_name", "Dense"},
          {"config", {{"units", units}, {"activation", "relu"}, {"use_bias", true}, {"name", name}}}};
}

// A valid model: Dense(2) on 3 inputs, then Dense(1); weights 3x2 + 2 + 2x1 + 1 floats.
json valid_model() {
  json first = dense("d1", 2);
  first["config"]["batch_input_shape"] = {nullptr, 3};
  return {{"format", "layers-model"},
          {"modelTopology", {{"class_name", "Sequential"}, {"config", {{"name", "m"}, {"layers", {first, dense("d2", 1)}}}}}},
          {"weightsManifest",
           {{{"paths", {"w.bin"}},
             {"weights",
              {{{"name", "d1/kernel"}, {"shape", {3, 2}}, {"dtype", "float32"}},
               {{"name", "d1/bias"}, {"shape", {2}}, {"dtype", "float32"}},
               {{"name", "d2/kernel"}, {"shape", {2, 1}}, {"dtype", "float32"}},
               {{"name", "d2/bias"}, {"shape", {1}}, {"dtype", "float32"}}}}}}}};
}

ModelFile parse(const json& model, size_t shard_floats = 11) {
  const std::string text = model.dump();
  return parse_tfjs_model(
      std::span<const char>(text.data(), text.size()),
      [&](const std::string&) { return std::vector<char>(shard_floats * 4, 0); }, "hostile/model.json");
}

void expect_refused(const json& model, const std::vector<std::string>& parts, size_t shard_floats = 11) {
  std::vector<std::string> all{"TensorFlow.js model 'hostile/model.json'"};
  all.insert(all.end(), parts.begin(), parts.end());
  expect_error([&] { parse(model, shard_floats); }, all);
}

json& layer(json& model, size_t i) { return model["modelTopology"]["config"]["layers"][i]; }
json& weight(json& model, size_t i) { return model["weightsManifest"][0]["weights"][i]; }

TEST(TfjsHostile, TheValidModelParses) {
  const ModelFile f = parse(valid_model());
  EXPECT_EQ(f.layers.size(), 2u);
  EXPECT_EQ(f.tensors.size(), 4u);
}

TEST(TfjsHostile, BadJsonAndMissingSectionsAreNamed) {
  const std::string text = "{\"modelTopology\": [1, 2";
  expect_error([&] { parse_tfjs_model(std::span<const char>(text.data(), text.size()), nullptr, "bad.json"); },
               {"bad.json", "not valid JSON"});
  json m = valid_model();
  m.erase("weightsManifest");
  expect_refused(m, {"needs \"modelTopology\" and \"weightsManifest\""});
  m = valid_model();
  m["format"] = "graph-model";
  expect_refused(m, {"\"graph-model\" is not supported"});
  m = valid_model();
  layer(m, 0)["config"]["units"] = "two";
  expect_refused(m, {"layer 'd1' (Dense)", "\"units\" should be an integer"});
}

TEST(TfjsHostile, ShardSizesMustMatchTheManifest) {
  expect_refused(valid_model(), {"the weight 'd2/kernel'", "its shards hold 0 more bytes"}, 8);
  expect_refused(valid_model(), {"hold 48 bytes; its weights use 44"}, 12);
}

TEST(TfjsHostile, HugeAndNegativeShapesAreRefusedBeforeAllocating) {
  json m = valid_model();
  weight(m, 0)["shape"] = {int64_t{1} << 20, int64_t{1} << 20};  // 4 TiB of floats
  expect_refused(m, {"the weight 'd1/kernel'", "needs 1099511627776 x 4 bytes", "its shards hold 44"});
  weight(m, 0)["shape"] = {int64_t{1} << 40, int64_t{1} << 40};
  expect_refused(m, {"the weight 'd1/kernel'", "int64"});
  weight(m, 0)["shape"] = {-3, -2};
  expect_refused(m, {"the weight 'd1/kernel'", "negative"});
  weight(m, 0)["shape"] = {3, 2.5};
  expect_refused(m, {"the weight 'd1/kernel'", "not an integer"});
  weight(m, 0)["shape"] = {3, 18446744073709551615ull};
  expect_refused(m, {"the weight 'd1/kernel'", "overflows int64"});
}

TEST(TfjsHostile, WeightsMustFitTheLayers) {
  json m = valid_model();
  weight(m, 0)["shape"] = {2, 3};  // 6 floats still, but not [in, units=2]
  expect_refused(m, {"layer 'd1' (Dense)", "weight 'kernel' has shape [2,3]", "does not fit"});
  m = valid_model();
  weight(m, 3)["name"] = "d3/bias";
  expect_refused(m, {"layer 'd2' (Dense)", "weight 'bias' is missing"});
  m = valid_model();
  weight(m, 1)["name"] = "d1/kernel";
  expect_refused(m, {"the weight 'd1/kernel' is listed twice"});
  m = valid_model();
  weight(m, 2)["dtype"] = "int32";
  expect_refused(m, {"the weight 'd2/kernel'", "dtype 'int32'", "float32"});
  m = valid_model();
  weight(m, 2)["quantization"] = {{"dtype", "uint8"}};
  expect_refused(m, {"the weight 'd2/kernel' is quantized"});
}

TEST(TfjsHostile, UnsupportedFeaturesNameTheLayerAndTheFeature) {
  json m = valid_model();
  layer(m, 1)["class_name"] = "LSTM";
  expect_refused(m, {"layer 'd2' (LSTM)", "the layer class is not supported"});
  m = valid_model();
  layer(m, 1)["config"]["activation"] = "swish";
  expect_refused(m, {"layer 'd2' (Dense)", "the activation \"swish\" is not supported"});
  m = valid_model();
  // Dense and Conv2D kernel and bias regularizers are L1L2 (regularizers_test); others are refused.
  layer(m, 1)["config"]["activity_regularizer"] = {{"class_name", "L1L2"}, {"config", {{"l1", 0}, {"l2", 0.01}}}};
  expect_refused(m, {"layer 'd2' (Dense)", "regularizer \"activity_regularizer\"", "l2"});
  layer(m, 1)["config"].erase("activity_regularizer");
  layer(m, 1)["config"]["kernel_regularizer"] = {{"class_name", "L1L2"}, {"config", {{"l1", -1}, {"l2", 0.01}}}};
  expect_refused(m, {"layer 'd2' (Dense)", "regularizer \"kernel_regularizer\"", ">= 0"});
  layer(m, 1)["config"]["kernel_regularizer"] = {{"class_name", "L1L2"}, {"config", {{"l1", 0}, {"l2", 0}}}};
  EXPECT_NO_THROW(parse(m));  // a regularizer without effect is fine
  m = valid_model();
  layer(m, 0)["config"]["dtype"] = "float16";
  expect_refused(m, {"layer 'd1' (Dense)", "dtype \"float16\""});
  m = valid_model();
  layer(m, 1)["config"]["kernel_constraint"] = {{"class_name", "MaxNorm"}, {"config", {{"max_value", 2}}}};
  expect_refused(m, {"layer 'd2' (Dense)", "a weight constraint"});
  m = valid_model();
  layer(m, 1) = {{"class_name", "Flatten"}, {"config", {{"name", "f"}, {"data_format", "channels_first"}}}};
  expect_refused(m, {"layer 'f' (Flatten)", "channels_first"});
  m = valid_model();
  layer(m, 0)["config"]["batch_input_shape"] = {nullptr, nullptr};
  expect_refused(m, {"layer 'd1' (Dense)", "unknown dimension"});
  m = valid_model();
  layer(m, 0)["config"]["trainable"] = false;
  expect_refused(m, {"layer 'd1' (Dense)", "trainable = false"});
}

TEST(TfjsHostile, FunctionalModelsMustBeOneChain) {
  json m = valid_model();
  json input = {{"class_name", "InputLayer"},
                {"name", "in"},
                {"config", {{"name", "in"}, {"batch_input_shape", {nullptr, 3}}}},
                {"inbound_nodes", json::array()}};
  json d1 = dense("d1", 2), d2 = dense("d2", 1);
  d1["inbound_nodes"] = {{{"in", 0, 0, json::object()}}};
  d2["inbound_nodes"] = {{{"in", 0, 0, json::object()}}};  // a branch from the input, not from d1
  m["modelTopology"] = {{"class_name", "Model"},
                        {"config",
                         {{"name", "f"},
                          {"layers", {input, d1, d2}},
                          {"input_layers", {{"in", 0, 0}}},
                          {"output_layers", {{"d2", 0, 0}}}}}};
  expect_refused(m, {"layer 'd2' (Dense)", "single chain"});
  m["modelTopology"]["config"]["layers"][2]["inbound_nodes"] = {{{"d1", 0, 0, json::object()}}};
  EXPECT_NO_THROW(parse(m));
  m["modelTopology"]["config"]["output_layers"] = {{"d1", 0, 0}, {"d2", 0, 0}};
  expect_refused(m, {"output_layers", "single"});
}

TEST(TfjsHostile, ShardNamesStayInTheModelsDirectory) {
  for (const char* bad : {"../w.bin", "/etc/passwd", "", ".."}) {
    json m = valid_model();
    m["weightsManifest"][0]["paths"] = {bad};
    expect_refused(m, {"is not a file name in the model's directory"});
  }
}

TEST(TfjsHostile, FilesOnDiskNothingPartlyLoaded) {
  const std::string dir = testing::temp_dir() + "/hostile_tfjs";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/model.json") << valid_model().dump();
  testing::expect_error([&] { load_model(dir); }, {"cannot open weight shard", dir + "/w.bin"});
  std::ofstream(dir + "/w.bin", std::ios::binary) << std::string(11 * 4, '\0');
  Sequential good = load_model(dir);
  const Tensor x = Tensor(Shape{1, 3}, std::vector<float>{1, 2, 3});
  const Tensor before = good.predict(x);
  std::ofstream(dir + "/w.bin", std::ios::binary) << std::string(10 * 4, '\0');  // truncated
  testing::expect_error([&] { good = load_model(dir); }, {dir + "/model.json", "its shards hold"});
  EXPECT_EQ(testing::max_abs_diff(good.predict(x), before), 0.0);  // the old model is untouched
}

}  // namespace
}  // namespace horn::keras
