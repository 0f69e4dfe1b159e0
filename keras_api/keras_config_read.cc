// Reading Keras model and training configs (keras_config_json.h) into a ModelFile.
#include "keras_api/keras_config_json.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/attr.h"
#include "keras_api/layer_config.h"
#include "keras_api/learning_rate_schedules.h"
#include "keras_api/model_file.h"

namespace horn::keras {
namespace {

using json = nlohmann::json;
using layer_config::dims_text;

// The layer classes Horn rebuilds; their Keras and Horn names are the same.
const std::set<std::string>& supported_classes() {
  static const std::set<std::string> known = {
      "Activation",         "AveragePooling2D",   "BatchNormalization", "Conv2D",
      "Dense",              "Dropout",            "Flatten",            "GlobalAveragePooling2D",
      "GlobalMaxPooling2D", "InputLayer",         "LeakyReLU",          "MaxPooling2D",
      "Reshape",            "ZeroPadding2D"};
  return known;
}

std::string type_name(const json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list";
  return "an object";
}

// One layer's {"class_name", "config"} from a hostile file: typed getters whose errors name
// the layer, its class and the field.
class KerasLayer {
 public:
  KerasLayer(const json& layer, size_t index) : index_(index) {
    if (!layer.is_object()) fail("layer ", index, " of the model config is ", type_name(layer), ", not an object");
    cls_ = layer.contains("class_name") && layer["class_name"].is_string()
               ? layer["class_name"].get<std::string>()
               : std::string("?");
    if (!layer.contains("config") || !layer["config"].is_object())
      fail("layer ", index, " (", cls_, ") of the model config has no \"config\" object");
    config_ = &layer["config"];
    name_ = has("name") && at("name").is_string() ? at("name").get<std::string>() : "";
    if (name_.empty() && layer.contains("name") && layer["name"].is_string()) name_ = layer["name"];
    if (cls_ == "?") refuse("has no \"class_name\"");
    if (name_.empty()) refuse("has no name");
    // Keras 3 names each class's module: a class of the user's own that shares a Keras name
    // would compute something else than Horn's layer of that name.
    if (layer.contains("module") && layer["module"].is_string() &&
        layer["module"].get<std::string>().rfind("keras", 0) != 0)
      refuse("a custom layer class (module \"", layer["module"].get<std::string>(), "\") is not supported");
  }
  const std::string& cls() const { return cls_; }
  const std::string& name() const { return name_; }

  template <typename... Args>
  [[noreturn]] void refuse(const Args&... args) const {
    fail("layer '", name_.empty() ? "#" + std::to_string(index_) : name_, "' (", cls_, "): ", args...);
  }
  bool has(const char* key) const { return config_->contains(key) && !(*config_)[key].is_null(); }
  const json& at(const char* key) const {
    if (!config_->contains(key)) refuse("lacks \"", key, "\"");
    return (*config_)[key];
  }

  int64_t integer(const char* key) const {
    if (!has(key)) refuse("lacks \"", key, "\"");
    return integer_of(at(key), key);
  }
  int64_t integer_of(const json& j, const char* key) const {
    if (!j.is_number_integer() && !j.is_number_unsigned()) refuse("\"", key, "\" should be an integer, got ", type_name(j));
    if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t{INT64_MAX}) refuse("\"", key, "\" is too large");
    return j.get<int64_t>();
  }
  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    if (!at(key).is_number()) refuse("\"", key, "\" should be a number, got ", type_name(at(key)));
    return at(key).get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!at(key).is_boolean()) refuse("\"", key, "\" should be true or false, got ", type_name(at(key)));
    return at(key).get<bool>();
  }
  std::string string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!at(key).is_string()) refuse("\"", key, "\" should be a string, got ", type_name(at(key)));
    return at(key).get<std::string>();
  }
  std::vector<int64_t> integers(const char* key) const {
    if (!at(key).is_array()) refuse("\"", key, "\" should be a list of integers, got ", type_name(at(key)));
    std::vector<int64_t> v;
    for (const json& e : at(key)) v.push_back(integer_of(e, key));
    return v;
  }
  // Keras's "an integer or a tuple of 2 integers", as Horn's "height,width" text.
  std::string height_width(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (at(key).is_array()) {
      std::vector<int64_t> v = integers(key);
      if (v.size() != 2) refuse("\"", key, "\" should have 2 numbers, got ", v.size());
      return dims_text(v);
    }
    const int64_t n = integer(key);
    return dims_text({n, n});
  }
  // The shape of a sample: [None, d1, ...] without its batch entry.
  std::vector<int64_t> sample_shape(const char* key) const {
    if (!at(key).is_array() || at(key).empty()) refuse("\"", key, "\" should be a list, got ", type_name(at(key)));
    std::vector<int64_t> dims;
    for (size_t i = 1; i < at(key).size(); ++i) {
      const json& d = at(key)[i];
      if (d.is_null()) refuse("\"", key, "\" has an unknown dimension ", i, "; Horn needs every dimension but the batch");
      dims.push_back(integer_of(d, key));
      if (dims.back() <= 0) refuse("\"", key, "\" has a dimension ", dims.back(), "; dimensions must be positive");
    }
    return dims;
  }

  // Features Horn does not have, and settings that would change the numbers.
  void require_absent(const char* key, const char* feature) const {
    if (has(key)) refuse(feature, " (\"", key, "\") is not supported");
  }
  void require_channels_last() const {
    if (string("data_format", "channels_last") != "channels_last")
      refuse("data_format \"", string("data_format", ""), "\" is not supported; Horn is channels_last (NHWC)");
  }
  void require_no_effect_regularizer(const char* key) const {
    if (!has(key)) return;
    const json& r = at(key);
    if (!r.is_object() || !r.contains("config") || !r["config"].is_object())
      refuse("\"", key, "\" is not a regularizer Horn knows");
    for (const auto& [factor, value] : r["config"].items())
      if (!value.is_null() && !(value.is_number() && value.get<double>() == 0))
        refuse("the regularizer \"", key, "\" (", factor, " = ", value.dump(), ") is not supported; ",
               "only regularizers with zero factors are accepted");
  }
  // A Dense or Conv2D weight's regularizer (Keras's L1L2, L1 or L2) -> the text its
  // LayerConfig holds ("" when there is none or its factors are zero).
  std::string regularizer_text(const char* key) const {
    if (!has(key) || at(key).is_null()) return "";
    const json& r = at(key);
    if (!r.is_object() || !r.contains("class_name") || !r["class_name"].is_string() || !r.contains("config") ||
        !r["config"].is_object())
      refuse("\"", key, "\" is not a regularizer Horn knows");
    const std::string cls = r["class_name"];
    if (cls != "L1L2" && cls != "L1" && cls != "L2")
      refuse("the regularizer ", cls, " (\"", key, "\") is not supported; Horn has L1, L2 and L1L2");
    double factors[2] = {0, 0};
    const char* names[2] = {"l1", "l2"};
    for (int i = 0; i < 2; ++i) {
      const json& c = r["config"];
      if (!c.contains(names[i]) || c[names[i]].is_null()) continue;
      if (!c[names[i]].is_number()) refuse("the regularizer \"", key, "\" has ", names[i], " = ", c[names[i]].dump());
      factors[i] = c[names[i]].get<double>();
    }
    try {
      return regularizers::Regularizer(factors[0], factors[1]).text();
    } catch (const Error& e) {
      refuse("the regularizer \"", key, "\": ", e.what());
    }
  }
  // The layer's dtype policy: "float32" (also when absent) or "mixed_bfloat16".
  std::string policy() const {
    if (!has("dtype")) return "float32";
    const json& d = at("dtype");
    // Keras 2 writes a policy as {"class_name": "Policy", "config": {"name": ...}}, Keras 3 as
    // {"class_name": "DTypePolicy", "config": {"name": ...}}; a plain dtype is a string.
    const std::string name = d.is_string() ? d.get<std::string>()
                             : d.is_object() && d.contains("config") && d["config"].is_object() &&
                                       d["config"].contains("name") && d["config"]["name"].is_string()
                                 ? d["config"]["name"].get<std::string>()
                                 : "?";
    if (name != "float32" && name != "mixed_bfloat16")
      refuse("dtype \"", name, "\" is not supported; Horn imports float32 and mixed_bfloat16 models");
    return name;
  }
  std::string activation() const {
    const std::string a = string("activation", "linear");
    if (a == "relu6" || a == "swish" || a == "gelu" || a == "mish" || a == "log_softmax" || a == "silu")
      refuse("the activation \"", a, "\" is not supported");
    return a == "linear" ? "" : a;
  }
  std::string initializer(const char* key, const std::string& fallback) const;

 private:
  size_t index_;
  std::string cls_, name_;
  const json* config_ = nullptr;
};

// Keras's and TensorFlow.js's initializer objects (or old string names) -> Horn's names.
std::string KerasLayer::initializer(const char* key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const json& init = at(key);
  if (init.is_string()) return init.get<std::string>();  // old Keras: "glorot_uniform"
  if (!init.is_object() || !init.contains("class_name") || !init["class_name"].is_string())
    refuse("\"", key, "\" is not an initializer");
  const std::string cls = init["class_name"];
  const json config = init.contains("config") && init["config"].is_object() ? init["config"] : json::object();
  static const std::map<std::string, std::string> by_class = {
      {"Zeros", "zeros"},           {"Ones", "ones"},
      {"GlorotUniform", "glorot_uniform"}, {"GlorotNormal", "glorot_normal"},
      {"HeUniform", "he_uniform"},  {"HeNormal", "he_normal"},
      {"LecunUniform", "lecun_uniform"},   {"LecunNormal", "lecun_normal"},
      {"LeCunUniform", "lecun_uniform"},   {"LeCunNormal", "lecun_normal"}};
  if (auto it = by_class.find(cls); it != by_class.end()) return it->second;
  auto num = [&](const char* k, double d) { return config.contains(k) && config[k].is_number() ? config[k].get<double>() : d; };
  auto text = [&](const char* k) { return config.contains(k) && config[k].is_string() ? config[k].get<std::string>() : ""; };
  if (cls == "VarianceScaling") {
    const double scale = num("scale", 1);
    const std::string mode = text("mode"), dist = text("distribution");
    const std::string kind = dist == "uniform" ? "uniform"
                             : dist == "normal" || dist == "truncated_normal" || dist == "truncatedNormal" ? "normal"
                                                                                                            : "";
    std::string family = scale == 1 && mode == "fan_avg" ? "glorot"
                         : scale == 2 && mode == "fan_in" ? "he"
                         : scale == 1 && mode == "fan_in" ? "lecun"
                                                          : "";
    if (!kind.empty() && !family.empty()) return family + "_" + kind;
  }
  if (cls == "RandomNormal" && num("mean", 0) == 0 && num("stddev", 0.05) == 0.05) return "random_normal";
  if (cls == "RandomUniform" && num("minval", -0.05) == -0.05 && num("maxval", 0.05) == 0.05) return "random_uniform";
  if (cls == "TruncatedNormal" && num("mean", 0) == 0 && num("stddev", 0.05) == 0.05) return "truncated_normal";
  refuse("the initializer ", init.dump(), " (\"", key, "\") is not supported");
}

// One Keras layer -> Horn's LayerConfig (the keys Layer::config() writes).
LayerConfig layer_config_from_keras(const KerasLayer& k, bool first) {
  const std::string& cls = k.cls();
  if (!supported_classes().count(cls))
    k.refuse("the layer class is not supported; Horn imports ", [] {
      std::string s;
      for (const auto& c : supported_classes()) s += (s.empty() ? "" : ", ") + c;
      return s;
    }());
  const std::string policy = k.policy();
  if (!k.boolean("trainable", true)) k.refuse("frozen layers (trainable = false) are not supported");
  const bool weight_regularizers = cls == "Dense" || cls == "Conv2D";  // Horn's layers that have them
  for (const char* r : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "beta_regularizer",
                        "gamma_regularizer"})
    if (!weight_regularizers || std::string(r).rfind("activity", 0) == 0) k.require_no_effect_regularizer(r);
  for (const char* c : {"kernel_constraint", "bias_constraint", "beta_constraint", "gamma_constraint"})
    k.require_absent(c, "a weight constraint");
  LayerConfig c{{"type", cls}, {"name", k.name()}};
  if (weight_regularizers)
    for (const char* r : {"kernel_regularizer", "bias_regularizer"})
      if (std::string text = k.regularizer_text(r); !text.empty()) c[r] = text;
  if (policy != "float32") c["dtype"] = policy;  // as Layer::config() writes it
  for (const char* key : {"batch_input_shape", "batch_shape"})
    if (k.has(key)) {
      if (!first) k.refuse("declares an input shape but is not the first layer");
      c["input_shape"] = dims_text(k.sample_shape(key));
    }
  if (cls == "InputLayer") {
    if (!c.count("input_shape")) k.refuse("has no batch_input_shape");
    if (k.boolean("sparse", false) || k.boolean("ragged", false)) k.refuse("sparse or ragged inputs are not supported");
  } else if (cls == "Dense") {
    k.require_absent("lora_rank", "LoRA");
    k.require_absent("quantization_config", "quantization");
    c["units"] = std::to_string(k.integer("units"));
    c["activation"] = k.activation();
    c["use_bias"] = k.boolean("use_bias", true) ? "1" : "0";
    c["kernel_initializer"] = k.initializer("kernel_initializer", "glorot_uniform");
    c["bias_initializer"] = k.initializer("bias_initializer", "zeros");
  } else if (cls == "Activation") {
    c["activation"] = k.activation();
  } else if (cls == "LeakyReLU") {
    // Keras 3 renamed alpha to negative_slope.
    c["alpha"] = exact_double_string(k.has("negative_slope") ? k.number("negative_slope", 0.3) : k.number("alpha", 0.3));
  } else if (cls == "Dropout") {
    k.require_absent("noise_shape", "a dropout noise_shape");
    c["rate"] = exact_double_string(k.number("rate", -1));
    if (k.has("seed")) c["seed"] = std::to_string(k.integer("seed"));
  } else if (cls == "Flatten") {
    k.require_channels_last();
  } else if (cls == "Reshape") {
    c["target_shape"] = dims_text(k.integers("target_shape"));
  } else if (cls == "Conv2D") {
    k.require_channels_last();
    if (k.has("groups") && k.integer("groups") != 1) k.refuse("grouped convolutions (groups > 1) are not supported");
    k.require_absent("lora_rank", "LoRA");
    c["filters"] = std::to_string(k.integer("filters"));
    c["kernel_size"] = k.height_width("kernel_size", "");
    if (c["kernel_size"].empty()) k.refuse("lacks \"kernel_size\"");
    c["strides"] = k.height_width("strides", "1,1");
    c["padding"] = k.string("padding", "valid");
    c["dilation_rate"] = k.height_width("dilation_rate", "1,1");
    c["activation"] = k.activation();
    c["use_bias"] = k.boolean("use_bias", true) ? "1" : "0";
    c["kernel_initializer"] = k.initializer("kernel_initializer", "glorot_uniform");
    c["bias_initializer"] = k.initializer("bias_initializer", "zeros");
  } else if (cls == "MaxPooling2D" || cls == "AveragePooling2D") {
    k.require_channels_last();
    c["pool_size"] = k.height_width("pool_size", "2,2");
    c["strides"] = k.height_width("strides", "0,0");  // 0,0: Keras's None, the pool size
    c["padding"] = k.string("padding", "valid");
  } else if (cls == "GlobalAveragePooling2D" || cls == "GlobalMaxPooling2D") {
    k.require_channels_last();
    if (k.boolean("keepdims", false)) k.refuse("keepdims = true is not supported");
  } else if (cls == "ZeroPadding2D") {
    k.require_channels_last();
    std::vector<int64_t> p;
    if (!k.has("padding")) p = {1, 1, 1, 1};
    else if (!k.at("padding").is_array()) p = std::vector<int64_t>(4, k.integer("padding"));
    else {
      for (const json& side : k.at("padding")) {
        if (side.is_array() && side.size() == 2) {
          p.push_back(k.integer_of(side[0], "padding"));
          p.push_back(k.integer_of(side[1], "padding"));
        } else {
          const int64_t n = k.integer_of(side, "padding");
          p.insert(p.end(), {n, n});
        }
      }
      if (p.size() != 4) k.refuse("\"padding\" should be n, [rows, cols] or [[top, bottom], [left, right]]");
    }
    c["padding"] = dims_text(p);
  } else if (cls == "BatchNormalization") {
    int64_t axis = -1;
    if (k.has("axis")) {
      const std::vector<int64_t> axes = k.at("axis").is_array() ? k.integers("axis") : std::vector{k.integer("axis")};
      if (axes.size() != 1) k.refuse("normalizing over several axes is not supported");
      axis = axes[0];
    }
    for (const char* f : {"renorm", "virtual_batch_size", "adjustment", "synchronized"})
      if (k.has(f) && !(k.at(f).is_boolean() && !k.at(f).get<bool>())) k.refuse("\"", f, "\" is not supported");
    c["axis"] = std::to_string(axis);
    c["momentum"] = exact_double_string(k.number("momentum", 0.99));
    c["epsilon"] = exact_double_string(k.number("epsilon", 1e-3));
    c["center"] = k.boolean("center", true) ? "1" : "0";
    c["scale"] = k.boolean("scale", true) ? "1" : "0";
    c["beta_initializer"] = k.initializer("beta_initializer", "zeros");
    c["gamma_initializer"] = k.initializer("gamma_initializer", "ones");
    c["moving_mean_initializer"] = k.initializer("moving_mean_initializer", "zeros");
    c["moving_variance_initializer"] = k.initializer("moving_variance_initializer", "ones");
  }
  return c;
}

// The layer a functional layer's single inbound tensor comes from: Keras 2's
// [[["name", 0, 0, {}]]] or Keras 3's {"args": [{"config": {"keras_history": ["name", 0, 0]}}]}.
std::string single_inbound(const KerasLayer& k, const json& layer) {
  const json nodes = layer.contains("inbound_nodes") ? layer["inbound_nodes"] : json::array();
  if (!nodes.is_array() || nodes.size() != 1) k.refuse("is called ", nodes.size(), " times; Horn imports single chains");
  const json& node = nodes[0];
  if (node.is_array() && node.size() == 1 && node[0].is_array() && !node[0].empty() && node[0][0].is_string())
    return node[0][0];
  if (node.is_object() && node.contains("args") && node["args"].is_array() && node["args"].size() == 1) {
    const json& t = node["args"][0];
    if (t.is_object() && t.contains("config") && t["config"].is_object() && t["config"].contains("keras_history") &&
        t["config"]["keras_history"].is_array() && !t["config"]["keras_history"].empty() &&
        t["config"]["keras_history"][0].is_string())
      return t["config"]["keras_history"][0];
  }
  k.refuse("has several inputs or an inbound node Horn cannot read; Horn imports single chains");
}

std::string output_layer_name(const json& ends, const char* what) {
  // [["name", 0, 0]] (Keras 2), ["name", 0, 0] or [["name", 0, 0]] (Keras 3).
  const json& e = ends.is_array() && ends.size() == 1 && ends[0].is_array() ? ends[0] : ends;
  if (!e.is_array() || e.empty() || !e[0].is_string() || (ends.is_array() && ends.size() > 1 && ends[0].is_array()))
    fail("the model config's ", what, " is not a single layer; Horn imports single chains");
  return e[0];
}

std::string camel_to_snake(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (std::isupper(static_cast<unsigned char>(ch))) {
      if (!out.empty()) out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    } else {
      out += ch;
    }
  }
  return out;
}

// Optimizer settings: Horn's (Keras's) key for each TensorFlow.js key.
const std::map<std::string, std::string>& tfjs_to_keras_keys() {
  static const std::map<std::string, std::string> keys = {
      {"learningRate", "learning_rate"}, {"beta1", "beta_1"}, {"beta2", "beta_2"}, {"useNesterov", "nesterov"}};
  return keys;
}

}  // namespace

void read_keras_model_config(const json& model_config, ModelFile* file, const std::string& keras_version) {
  if (!model_config.is_object() || !model_config.contains("class_name") || !model_config["class_name"].is_string())
    fail("the model config has no \"class_name\"");
  const std::string cls = model_config["class_name"];
  if (cls != "Sequential" && cls != "Model" && cls != "Functional")
    fail("the model class '", cls, "' is not supported; Horn imports Sequential models and single-chain functional ones");
  const json& config = model_config.contains("config") ? model_config["config"] : json();
  // Keras before 2.2.3 wrote a Sequential's config as the bare list of layers.
  const json& layers = config.is_array() ? config : config.is_object() && config.contains("layers") ? config["layers"] : json();
  if (!layers.is_array() || layers.empty()) fail("the model config has no layers");
  file->settings["name"] = config.is_object() && config.contains("name") && config["name"].is_string()
                               ? config["name"].get<std::string>()
                               : std::string("sequential");
  std::string previous;
  for (size_t i = 0; i < layers.size(); ++i) {
    const KerasLayer k(layers[i], i);
    if (cls != "Sequential") {
      if (i == 0 && k.cls() != "InputLayer") k.refuse("a functional model must start with an InputLayer");
      if (i > 0 && single_inbound(k, layers[i]) != previous)
        k.refuse("its input is not the layer before it; Horn imports single chains");
      previous = k.name();
    }
    file->layers.push_back(layer_config_from_keras(k, i == 0));
    if (i == 0 && !file->layers.back().count("input_shape")) {
      // Keras 3 models built without an InputLayer keep the input shape in build configs.
      const json& own = layers[i].contains("build_config") ? layers[i]["build_config"] : json();
      const json& shape = own.is_object() && own.contains("input_shape") ? own["input_shape"]
                          : config.is_object() && config.contains("build_input_shape") ? config["build_input_shape"]
                                                                                         : json();
      if (!shape.is_null()) {
        const json wrapped = {{"class_name", k.cls()}, {"config", {{"name", k.name()}, {"build_input_shape", shape}}}};
        const KerasLayer holder(wrapped, i);  // keeps a pointer into `wrapped`
        file->layers.back()["input_shape"] = dims_text(holder.sample_shape("build_input_shape"));
      }
    }
    if (keras_version.rfind("3", 0) == 0 && file->layers.back().count("activation") &&
        file->layers.back().at("activation") == "hard_sigmoid")
      k.refuse("Keras 3's hard_sigmoid (relu6(x + 3) / 6) is not supported; Horn's is Keras 2's (0.2 x + 0.5)");
  }
  if (cls != "Sequential") {
    auto ends = [&](const char* key) {
      if (!config.is_object() || !config.contains(key)) fail("the model config has no \"", key, "\"");
      return output_layer_name(config[key], key);
    };
    if (ends("input_layers") != file->layers.front().at("name") ||
        ends("output_layers") != file->layers.back().at("name"))
      fail("the model config's inputs and outputs are not the ends of its chain of layers");
  }
}

void read_keras_training_config(const json& training, ModelFile* file) {
  if (!training.is_object()) fail("the training config is not an object");
  auto refuse = [](const auto&... args) { fail("the training config: ", args..., " is not supported"); };
  const json& loss = training.contains("loss") ? training["loss"] : json();
  std::string loss_name;
  if (loss.is_string()) loss_name = loss;
  else if (loss.is_object() && loss.contains("class_name") && loss["class_name"].is_string()) {
    // Keras 2.4+ may store a loss object: {"class_name": "CategoricalCrossentropy", "config": {...}}.
    const json& lc = loss.contains("config") && loss["config"].is_object() ? loss["config"] : json::object();
    if ((lc.contains("from_logits") && lc["from_logits"] != false) ||
        (lc.contains("label_smoothing") && lc["label_smoothing"] != 0))
      refuse("the loss setting ", lc.dump());
    loss_name = camel_to_snake(loss["class_name"].get<std::string>());
  } else {
    refuse("a loss that is not one name (", loss.dump(), ")");
  }
  std::string metrics;
  if (training.contains("metrics") && !training["metrics"].is_null()) {
    const json& m = training["metrics"];
    // TensorFlow.js writes {} for a model compiled without metrics.
    if (!m.is_array() && !(m.is_object() && m.empty())) refuse("metrics that are not a list of names (", m.dump(), ")");
    for (const json& name : m) {
      if (!name.is_string()) refuse("the metric ", name.dump());
      metrics += (metrics.empty() ? "" : ",") + name.get<std::string>();
    }
  }
  const json& opt = training.contains("optimizer_config") ? training["optimizer_config"] : json();
  if (!opt.is_object() || !opt.contains("class_name") || !opt["class_name"].is_string())
    refuse("an optimizer_config without a class name");
  std::string name = opt["class_name"];
  if (name.rfind("Custom>", 0) == 0) name = name.substr(7);  // tf.keras 2.11+ prefixes its own
  const json& oc = opt.contains("config") && opt["config"].is_object() ? opt["config"] : json::object();
  std::map<std::string, double> settings;
  std::string schedule;  // a learning rate that is a schedule, as Keras's JSON object
  for (const auto& [key_in, value] : oc.items()) {
    auto mapped = tfjs_to_keras_keys().find(key_in);
    std::string key = mapped != tfjs_to_keras_keys().end() ? mapped->second : key_in;
    if (key == "name" || key == "jit_compile" || key == "is_legacy_optimizer") continue;
    if (key == "lr") key = "learning_rate";  // Keras before 2.3
    if (value.is_null()) continue;
    if (key == "learning_rate" && value.is_object()) {
      schedule = value.dump();
      try {
        optimizers::schedules::from_json(schedule);
      } catch (const Error& e) {
        refuse("the learning rate ", value.dump().substr(0, 200), " (", e.what(), ")");
      }
      continue;
    }
    if ((key == "use_ema" || key == "centered" || key == "amsgrad" || key == "nesterov") && value.is_boolean()) {
      if (key == "use_ema" || key == "centered") {
        if (value.get<bool>()) refuse("the optimizer setting ", key, " = true");
        continue;
      }
      settings[key] = value.get<bool>();
      continue;
    }
    if (!value.is_number()) refuse("the optimizer setting ", key, " = ", value.dump());
    const double v = value.get<double>();
    if (name == "RMSProp" && key == "decay") key = "rho";  // TensorFlow.js's name for rho
    if (key == "ema_momentum" || key == "ema_overwrite_frequency") continue;  // unused without use_ema
    if ((key == "momentum" && name != "SGD" && name != "Momentum") || key == "weight_decay" || key == "clipnorm" ||
        key == "clipvalue" || key == "global_clipnorm" || key == "initialAccumulatorValue" ||
        key == "initial_accumulator_value") {
      if (v != 0 && !(key == "initial_accumulator_value" && name == "Adagrad" && v == 0))
        refuse("the optimizer setting ", key, " = ", value.dump());
      continue;
    }
    settings[key] = v;
  }
  if (name == "Momentum") name = "SGD";  // TensorFlow.js's SGD with momentum
  if (name == "RMSProp") name = "RMSprop";
  file->settings["loss"] = loss_name;
  file->settings["metrics"] = metrics;
  file->settings["optimizer"] = name;
  for (const auto& [k, v] : settings) file->settings["optimizer." + k] = exact_double_string(v);
  if (!schedule.empty()) file->settings["optimizer.learning_rate"] = schedule;
  file->settings["optimizer_state"] = "none";
}


void check_weights_match_layers(const ModelFile& file) {
  std::map<std::string, const Tensor*> tensors;
  for (const auto& [name, t] : file.tensors) tensors[name] = &t;
  for (const LayerConfig& c : file.layers) {
    const std::string& layer = layer_config::value(c, "name");
    const std::string& type = layer_config::value(c, "type");
    int64_t features = -1;  // units, filters or BatchNormalization's features
    if (type == "Dense") features = std::stoll(layer_config::value(c, "units"));
    if (type == "Conv2D") features = std::stoll(layer_config::value(c, "filters"));
    for (const std::string& w : keras_weight_names(c)) {
      auto it = tensors.find(layer + "/" + w);
      if (it == tensors.end()) fail("layer '", layer, "' (", type, "): its weight '", w, "' is missing");
      const Shape& shape = it->second->shape();
      const bool kernel = w == "kernel";
      const int rank = kernel ? (type == "Dense" ? 2 : 4) : 1;
      if (features < 0) features = shape.rank() == 1 ? shape.dim(0) : -1;
      if (shape.rank() != rank || shape.dim(rank - 1) != features ||
          (kernel && type == "Conv2D" &&
           layer_config::dims_text({shape.dim(0), shape.dim(1)}) != layer_config::value(c, "kernel_size")))
        fail("layer '", layer, "' (", type, "): its weight '", w, "' has shape ", shape,
             ", which does not fit the layer's config");
      tensors.erase(it);
    }
  }
  if (!tensors.empty()) fail("the weight '", tensors.begin()->first, "' belongs to no layer of the model");
}

}  // namespace horn::keras
