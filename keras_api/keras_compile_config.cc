// Keras 3's compile_config (the "compile_config" of a .keras file's config.json) read into and
// written from a ModelFile's compile settings (keras_config_json.h). Keras 3 stores what
// compile() was given: an optimizer, loss or metric may be a name ("adam") or a serialized
// object ({"module", "class_name", "config", "registered_name"}).
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/attr.h"
#include "keras_api/keras_config_json.h"
#include "keras_api/model_file.h"

namespace horn::keras {
namespace {

using json = nlohmann::json;

template <typename... Args>
[[noreturn]] void refuse(const Args&... args) {
  fail("the compile config: ", args..., " is not supported");
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Keras 3's defaults for an optimizer given by name: they differ from Keras 2.3's (Horn's) for
// Adagrad, Adadelta, Adamax and Nadam, so the file's meaning is spelled out.
json keras3_named_optimizer(const std::string& name) {
  const double lr = lower(name) == "sgd" ? 0.01 : 0.001;
  static const std::map<std::string, std::pair<std::string, json>> known = {
      {"sgd", {"SGD", {{"momentum", 0.0}, {"nesterov", false}}}},
      {"rmsprop", {"RMSprop", {{"rho", 0.9}, {"momentum", 0.0}, {"epsilon", 1e-7}, {"centered", false}}}},
      {"adagrad", {"Adagrad", {{"initial_accumulator_value", 0.1}, {"epsilon", 1e-7}}}},
      {"adadelta", {"Adadelta", {{"rho", 0.95}, {"epsilon", 1e-7}}}},
      {"adam", {"Adam", {{"beta_1", 0.9}, {"beta_2", 0.999}, {"epsilon", 1e-7}, {"amsgrad", false}}}},
      {"adamax", {"Adamax", {{"beta_1", 0.9}, {"beta_2", 0.999}, {"epsilon", 1e-7}}}},
      {"nadam", {"Nadam", {{"beta_1", 0.9}, {"beta_2", 0.999}, {"epsilon", 1e-7}}}}};
  auto it = known.find(lower(name));
  if (it == known.end()) refuse("the optimizer \"", name, "\"");
  json config = it->second.second;
  config["learning_rate"] = lr;
  return {{"class_name", it->second.first}, {"config", config}};
}

// A loss or metric: a name, Keras 3's serialized function ({"class_name": "function",
// "config": "mae"}), or a class (CategoricalAccuracy -> "categorical_accuracy", the name Keras
// gives its instances by default).
std::string function_name(const json& j, const char* what) {
  if (j.is_string()) return j;
  if (j.is_object() && j.contains("class_name") && j["class_name"] == "function" && j.contains("config") &&
      j["config"].is_string())
    return j["config"];
  if (j.is_object() && j.contains("class_name") && j["class_name"].is_string() && j.contains("config") &&
      j["config"].is_object() && j["config"].contains("name") && j["config"]["name"].is_string()) {
    const json& c = j["config"];
    if ((c.contains("from_logits") && c["from_logits"] != false) ||
        (c.contains("label_smoothing") && c["label_smoothing"] != 0))
      refuse("the ", what, " setting ", c.dump());
    return c["name"];
  }
  refuse("the ", what, " ", j.dump());
}

bool empty_or_null(const json& j) { return j.is_null() || (j.is_array() && j.empty()) || (j.is_object() && j.empty()); }

}  // namespace

void read_keras_compile_config(const json& compile, ModelFile* file) {
  if (!compile.is_object()) fail("the compile config is not an object");
  if (compile.empty()) return;  // Keras 3 writes {} for a model that was not compiled
  for (const char* key : {"loss_weights", "weighted_metrics"})
    if (compile.contains(key) && !empty_or_null(compile[key])) refuse("\"", key, "\" ", compile[key].dump());
  json training = json::object();
  training["loss"] = function_name(compile.contains("loss") ? compile["loss"] : json(), "loss");
  json metrics = json::array();
  if (compile.contains("metrics") && !compile["metrics"].is_null()) {
    if (!compile["metrics"].is_array()) refuse("metrics that are not a list (", compile["metrics"].dump(), ")");
    for (const json& m : compile["metrics"]) metrics.push_back(function_name(m, "metric"));
  }
  training["metrics"] = metrics;
  const json& opt = compile.contains("optimizer") ? compile["optimizer"] : json();
  if (opt.is_string()) training["optimizer_config"] = keras3_named_optimizer(opt);
  else if (opt.is_object() && opt.contains("module") && opt["module"].is_string() &&
           opt["module"].get<std::string>().rfind("keras", 0) != 0)
    refuse("a custom optimizer (module ", opt["module"].dump(), ")");
  else training["optimizer_config"] = opt;
  if (opt.is_object() && opt.contains("config") && opt["config"].is_object()) {
    const json& c = opt["config"];
    if (c.contains("gradient_accumulation_steps") && !c["gradient_accumulation_steps"].is_null())
      refuse("gradient accumulation (", c["gradient_accumulation_steps"].dump(), " steps)");
    // Keras 3's optimizer names are the class names in lower case ("adam", "sgd"), Horn's the
    // class names: the class decides, the instance name is dropped.
    training["optimizer_config"]["config"].erase("loss_scale_factor");  // scales and unscales: no effect
    training["optimizer_config"]["config"].erase("gradient_accumulation_steps");
  }
  read_keras_training_config(training, file);
}

json keras_compile_config(const ModelFile& file) {
  const std::string name = file.settings.at("optimizer");
  OptimizerSettings settings = optimizer_settings(file);
  std::map<std::string, double>& c = settings.numbers;
  auto no = [&](const std::string& what) {
    fail("Keras 3 has no ", name, " optimizer with ", what, "; compile with settings it has, or save as .h5 or .horn");
  };
  if (c.count("decay") && c["decay"] != 0) no("decay (Keras 3 uses learning-rate schedules)");
  if (c.count("schedule_decay") && c["schedule_decay"] != 0.004) no("schedule_decay other than 0.004");
  json config = {{"name", lower(name)},
                 {"learning_rate", c["learning_rate"]},
                 {"weight_decay", nullptr},
                 {"clipnorm", nullptr},
                 {"global_clipnorm", nullptr},
                 {"clipvalue", nullptr},
                 {"use_ema", false},
                 {"ema_momentum", 0.99},
                 {"ema_overwrite_frequency", nullptr},
                 {"loss_scale_factor", nullptr},
                 {"gradient_accumulation_steps", nullptr}};
  for (const auto& [k, v] : c) {
    if (k == "learning_rate" || k == "decay" || k == "schedule_decay") continue;
    config[k] = k == "nesterov" || k == "amsgrad" ? json(v != 0) : json(v);
  }
  if (!settings.schedule_json.empty()) {
    json schedule = json::parse(settings.schedule_json);
    config["learning_rate"] = {{"module", "keras.optimizers.schedules"},
                               {"class_name", schedule["class_name"]},
                               {"config", schedule["config"]},
                               {"registered_name", nullptr}};
  }
  if (name == "RMSprop") config.update({{"momentum", 0.0}, {"centered", false}});
  if (name == "Adagrad") config["initial_accumulator_value"] = 0.0;  // Keras 2.3's (Horn's) start
  json metrics = json::array();
  std::stringstream ms(file.settings.at("metrics"));
  for (std::string m; std::getline(ms, m, ',');)
    if (!m.empty()) metrics.push_back(m);
  return {{"optimizer",
           {{"module", "keras.optimizers"}, {"class_name", name}, {"config", config}, {"registered_name", nullptr}}},
          {"loss", file.settings.at("loss")},
          {"loss_weights", nullptr},
          {"metrics", metrics},
          {"weighted_metrics", nullptr},
          {"run_eagerly", false},
          {"steps_per_execution", 1},
          {"jit_compile", false}};
}

}  // namespace horn::keras
