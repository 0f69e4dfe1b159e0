// Writing a ModelFile as Keras model and training configs (keras_config_json.h).
#include "keras_api/keras_config_json.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "keras_api/layer_config.h"
#include "keras_api/model_file.h"

namespace horn::keras {
namespace {

using json = nlohmann::json;

// Keras 3's serialized object: {"module", "class_name", "config", "registered_name"}.
json keras3_object(const std::string& module, const std::string& cls, json config) {
  return {{"module", module}, {"class_name", cls}, {"config", std::move(config)}, {"registered_name", nullptr}};
}

json dtype_policy() { return keras3_object("keras", "DTypePolicy", {{"name", "float32"}}); }

// Keras 3 has a class per initializer Horn has (GlorotUniform, ...): no VarianceScaling needed.
json keras3_initializer_json(const std::string& name) {
  static const std::map<std::string, std::string> classes = {
      {"glorot_uniform", "GlorotUniform"}, {"glorot_normal", "GlorotNormal"}, {"he_uniform", "HeUniform"},
      {"he_normal", "HeNormal"},           {"lecun_uniform", "LecunUniform"}, {"lecun_normal", "LecunNormal"},
      {"zeros", "Zeros"},                  {"ones", "Ones"},                  {"random_normal", "RandomNormal"},
      {"random_uniform", "RandomUniform"}, {"truncated_normal", "TruncatedNormal"}};
  auto it = classes.find(name);
  if (it == classes.end()) fail("the initializer '", name, "' has no Keras 3 form");
  json config = {{"seed", nullptr}};
  if (name == "zeros" || name == "ones") config = json::object();
  if (name == "random_normal" || name == "truncated_normal") config.update({{"mean", 0.0}, {"stddev", 0.05}});
  if (name == "random_uniform") config.update({{"minval", -0.05}, {"maxval", 0.05}});
  return keras3_object("keras.initializers", it->second, config);
}

json initializer_json(const std::string& name) {
  if (name == "truncated_normal")
    return {{"class_name", "TruncatedNormal"}, {"config", {{"mean", 0.0}, {"stddev", 0.05}, {"seed", nullptr}}}};
  if (name == "zeros") return {{"class_name", "Zeros"}, {"config", json::object()}};
  if (name == "ones") return {{"class_name", "Ones"}, {"config", json::object()}};
  if (name == "random_normal")
    return {{"class_name", "RandomNormal"}, {"config", {{"mean", 0.0}, {"stddev", 0.05}, {"seed", nullptr}}}};
  if (name == "random_uniform")
    return {{"class_name", "RandomUniform"}, {"config", {{"minval", -0.05}, {"maxval", 0.05}, {"seed", nullptr}}}};
  // glorot_*, he_*, lecun_*: VarianceScaling, which Keras 2, Keras 3 and TensorFlow.js all read.
  const size_t cut = name.rfind('_');
  const std::string family = name.substr(0, cut), dist = name.substr(cut + 1);
  return {{"class_name", "VarianceScaling"},
          {"config",
           {{"scale", family == "he" ? 2.0 : 1.0},
            {"mode", family == "glorot" ? "fan_avg" : "fan_in"},
            {"distribution", dist == "uniform" ? "uniform" : "normal"},  // "normal": truncated, in all three
            {"seed", nullptr}}}};
}

json ints_json(const std::string& dims_text) { return json(layer_config::parse_dims(dims_text)); }

json keras_layer_json(const LayerConfig& c) {
  using layer_config::value;
  const std::string& type = value(c, "type");
  // Keras 2 writes a float32 layer's dtype as a string and a mixed policy as a Policy object.
  const json dtype = c.count("dtype") ? json{{"class_name", "Policy"}, {"config", {{"name", c.at("dtype")}}}}
                                      : json("float32");
  json config = {{"name", value(c, "name")}, {"trainable", true}, {"dtype", dtype}};
  if (c.count("input_shape")) {
    json shape = json::array({nullptr});
    for (int64_t d : layer_config::parse_dims(c.at("input_shape"))) shape.push_back(d);
    config["batch_input_shape"] = shape;
  }
  auto activation = [&] { return value(c, "activation").empty() ? std::string("linear") : value(c, "activation"); };
  auto weighted = [&] {
    config["activation"] = activation();
    config["use_bias"] = value(c, "use_bias") == "1";
    config["kernel_initializer"] = initializer_json(value(c, "kernel_initializer"));
    config["bias_initializer"] = initializer_json(value(c, "bias_initializer"));
    for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                          "bias_constraint"})
      config[k] = nullptr;
    for (const char* k : {"kernel_regularizer", "bias_regularizer"})
      if (c.count(k)) {
        const regularizers::Regularizer r = regularizers::Regularizer::from_text(c.at(k));
        config[k] = {{"class_name", "L1L2"}, {"config", {{"l1", r.l1()}, {"l2", r.l2()}}}};
      }
  };
  if (type == "InputLayer") {
    config.erase("trainable");
    config["sparse"] = false;
  } else if (type == "Dense") {
    config["units"] = std::stoll(value(c, "units"));
    weighted();
  } else if (type == "Activation") {
    config["activation"] = activation();
  } else if (type == "LeakyReLU") {
    config["alpha"] = std::stod(value(c, "alpha"));
  } else if (type == "Dropout") {
    config["rate"] = std::stod(value(c, "rate"));
    config["noise_shape"] = nullptr;
    config["seed"] = c.count("seed") ? json(std::stoll(c.at("seed"))) : json(nullptr);
  } else if (type == "Flatten") {
    config["data_format"] = "channels_last";
  } else if (type == "Reshape") {
    config["target_shape"] = ints_json(value(c, "target_shape"));
  } else if (type == "Conv2D") {
    config["filters"] = std::stoll(value(c, "filters"));
    config["kernel_size"] = ints_json(value(c, "kernel_size"));
    config["strides"] = ints_json(value(c, "strides"));
    config["padding"] = value(c, "padding");
    config["data_format"] = "channels_last";
    config["dilation_rate"] = ints_json(value(c, "dilation_rate"));
    weighted();
  } else if (type == "MaxPooling2D" || type == "AveragePooling2D") {
    config["pool_size"] = ints_json(value(c, "pool_size"));
    const std::vector<int64_t> strides = layer_config::parse_dims(value(c, "strides"));
    config["strides"] = strides == std::vector<int64_t>{0, 0} ? config["pool_size"] : json(strides);
    config["padding"] = value(c, "padding");
    config["data_format"] = "channels_last";
  } else if (type == "GlobalAveragePooling2D" || type == "GlobalMaxPooling2D") {
    config["data_format"] = "channels_last";
  } else if (type == "ZeroPadding2D") {
    const std::vector<int64_t> p = layer_config::parse_dims(value(c, "padding"));
    if (p.size() != 4) fail("ZeroPadding2D '", value(c, "name"), "': padding needs 4 numbers");
    config["padding"] = json::array({json::array({p[0], p[1]}), json::array({p[2], p[3]})});
    config["data_format"] = "channels_last";
  } else if (type == "BatchNormalization") {
    config["axis"] = std::stoll(value(c, "axis"));
    config["momentum"] = std::stod(value(c, "momentum"));
    config["epsilon"] = std::stod(value(c, "epsilon"));
    config["center"] = value(c, "center") == "1";
    config["scale"] = value(c, "scale") == "1";
    for (const char* k : {"beta_initializer", "gamma_initializer", "moving_mean_initializer",
                          "moving_variance_initializer"})
      config[k] = initializer_json(value(c, k));
    for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
      config[k] = nullptr;
  } else {
    fail("layer '", value(c, "name"), "' (", type, ") has no Keras form");
  }
  return {{"class_name", type}, {"config", config}};
}

json batch_shape_json(const Shape& sample) {
  json shape = json::array({nullptr});
  for (int64_t d : sample.dims()) shape.push_back(d);
  return shape;
}

// Keras 3's form of a layer (Keras 3's Layer.get_config and serialize_keras_object): the Keras 2
// config with a dtype policy, Keras 3 initializer objects and renamed arguments, wrapped with
// its module and the input shape it was built for.
json keras3_layer_json(const LayerConfig& c, const Shape& input) {
  const std::string& type = layer_config::value(c, "type");
  json config = keras_layer_json(c)["config"];
  config.erase("batch_input_shape");
  if (type == "InputLayer") {
    config = {{"batch_shape", batch_shape_json(input)}, {"dtype", "float32"}, {"sparse", false},
              {"ragged", false}, {"name", layer_config::value(c, "name")}};
    return keras3_object("keras.layers", type, config);
  }
  if (c.count("activation") && c.at("activation") == "hard_sigmoid")
    fail("layer '", layer_config::value(c, "name"), "' uses hard_sigmoid, which Keras 3 redefined (relu6(x + 3) / 6); ",
         "Keras 3 would compute something else: save as .h5 for Keras 2");
  config["dtype"] = dtype_policy();
  for (const auto& [key, value] : c)
    if (key.size() > 12 && key.compare(key.size() - 12, 12, "_initializer") == 0)
      config[key] = keras3_initializer_json(value);
  for (const char* key : {"kernel_regularizer", "bias_regularizer"})
    if (config.contains(key) && config[key].is_object())
      config[key] = keras3_object("keras.regularizers", "L1L2", config[key]["config"]);
  if (type == "LeakyReLU") {
    config["negative_slope"] = config["alpha"];
    config.erase("alpha");
  }
  if (type == "Conv2D") config["groups"] = 1;
  if (type == "BatchNormalization") config["synchronized"] = false;
  if (type == "GlobalAveragePooling2D" || type == "GlobalMaxPooling2D") config["keepdims"] = false;
  json layer = keras3_object("keras.layers", type, config);
  layer["build_config"] = {{"input_shape", batch_shape_json(input)}};
  return layer;
}

// A Sequential in Keras 3's form. Keras 3 stores a model's input as an InputLayer first in its
// layer list; a Horn model whose first layer declares the input shape gets one ("input_layer",
// Keras 3's automatic name).
json keras3_model_config(const ModelFile& file) {
  if (file.layers.empty()) fail("the model has no layers");
  std::set<std::string> names;
  for (const LayerConfig& c : file.layers) names.insert(layer_config::value(c, "name"));
  const std::vector<int64_t> dims = layer_config::parse_dims(layer_config::value(file.layers[0], "input_shape"));
  Shape shape(dims);
  const Shape input = shape;
  json layers = json::array();
  if (layer_config::value(file.layers[0], "type") != "InputLayer") {
    std::string name = "input_layer";
    for (int i = 1; names.count(name); ++i) name = "input_layer_" + std::to_string(i);
    layers.push_back(keras3_layer_json({{"type", "InputLayer"}, {"name", name}}, shape));
  }
  for (const LayerConfig& c : file.layers) {
    layers.push_back(keras3_layer_json(c, shape));
    shape = layer_from_config(c)->shapes(shape).output;  // the next layer's input
  }
  const auto name = file.settings.find("name");
  json config = {{"name", name != file.settings.end() ? name->second : "sequential"},
                 {"trainable", true},
                 {"dtype", dtype_policy()},
                 {"layers", layers},
                 {"build_input_shape", batch_shape_json(input)}};
  json model = keras3_object("keras", "Sequential", config);
  model["build_config"] = {{"input_shape", batch_shape_json(input)}};
  return model;
}

// Horn's optimizer class names are Keras's; TensorFlow.js spells some differently.
json optimizer_json(const ModelFile& file, KerasDialect dialect) {
  std::string name = file.settings.at("optimizer");
  OptimizerSettings settings = optimizer_settings(file);
  std::map<std::string, double>& c = settings.numbers;
  if (dialect == KerasDialect::kKeras) {
    json config = {{"name", name}};
    for (const auto& [k, v] : c) config[k] = k == "nesterov" || k == "amsgrad" ? json(v != 0) : json(v);
    if (!settings.schedule_json.empty()) config["learning_rate"] = json::parse(settings.schedule_json);
    return {{"class_name", name}, {"config", config}};
  }
  auto refuse = [&](const std::string& what) {
    fail("TensorFlow.js has no ", name, " optimizer with ", what, "; compile with settings it has, or save as .horn");
  };
  if (!settings.schedule_json.empty()) refuse("a learning-rate schedule");
  if (c.count("decay") && c["decay"] != 0 && name != "Adamax") refuse("decay");
  json config = {{"learningRate", c["learning_rate"]}};
  if (name == "SGD") {
    if (c["momentum"] != 0) {
      name = "Momentum";
      config["momentum"] = c["momentum"];
      config["useNesterov"] = c["nesterov"] != 0;
    }
  } else if (name == "Adam" || name == "Adamax") {
    if (c["amsgrad"] != 0) refuse("amsgrad");
    config["beta1"] = c["beta_1"];
    config["beta2"] = c["beta_2"];
    config["epsilon"] = c["epsilon"];
    if (name == "Adamax") config["decay"] = c["decay"];
  } else if (name == "RMSprop") {
    name = "RMSProp";
    config.update({{"decay", c["rho"]}, {"momentum", 0.0}, {"epsilon", c["epsilon"]}, {"centered", false}});
  } else if (name == "Adadelta") {
    config.update({{"rho", c["rho"]}, {"epsilon", c["epsilon"]}});
  } else {
    refuse("Keras's settings");  // Adagrad starts from other accumulators; no Nadam
  }
  return {{"class_name", name}, {"config", config}};
}

}  // namespace

json keras_model_config(const ModelFile& file, KerasVersion version) {
  if (version == KerasVersion::k3) return keras3_model_config(file);
  json layers = json::array();
  for (const LayerConfig& c : file.layers) layers.push_back(keras_layer_json(c));
  const auto name = file.settings.find("name");
  return {{"class_name", "Sequential"},
          {"config", {{"name", name != file.settings.end() ? name->second : "sequential"}, {"layers", layers}}}};
}

json keras_training_config(const ModelFile& file, KerasDialect dialect) {
  json metrics = json::array();
  std::stringstream ms(file.settings.at("metrics"));
  for (std::string m; std::getline(ms, m, ',');)
    if (!m.empty()) metrics.push_back(m);
  return {{"loss", file.settings.at("loss")}, {"metrics", metrics}, {"optimizer_config", optimizer_json(file, dialect)}};
}

std::vector<std::string> keras_weight_names(const LayerConfig& c) {
  const std::string& type = layer_config::value(c, "type");
  if (type == "Dense" || type == "Conv2D") {
    if (layer_config::value(c, "use_bias") == "1") return {"kernel", "bias"};
    return {"kernel"};
  }
  if (type == "BatchNormalization") {
    std::vector<std::string> names;
    if (layer_config::value(c, "scale") == "1") names.push_back("gamma");
    if (layer_config::value(c, "center") == "1") names.push_back("beta");
    names.insert(names.end(), {"moving_mean", "moving_variance"});
    return names;
  }
  return {};
}

}  // namespace horn::keras
