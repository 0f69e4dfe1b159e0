// Sequential's side of the .horn file (keras_api/model_file.h has the format): what save and
// save_weights store, and how load_weights and load_model restore it.
#include <charconv>
#include <map>
#include <sstream>

#include "core/attr.h"
#include "keras_api/model_file.h"
#include "keras_api/model_formats.h"
#include "keras_api/sequential.h"

namespace horn::keras {
namespace {

// Settings are text from a hostile file: parsed whole, with errors naming the file.
uint64_t parse_u64(const std::string& text, const std::string& path, const std::string& key) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    fail("model file '", path, "': the setting '", key, "' should be an unsigned integer, got '", text, "'");
  return v;
}

// Layer configs come from the file too: any failure to rebuild one names the file and layer.
std::shared_ptr<Layer> layer_from_file(const LayerConfig& c, const std::string& path, size_t index) {
  try {
    return layer_from_config(c);
  } catch (const std::exception& e) {
    const auto name = c.find("name");
    fail("model file '", path, "': layer ", index, name != c.end() ? " '" + name->second + "'" : "",
         " cannot be rebuilt from its config: ", e.what());
  }
}

// The file decides the layers' sizes (a Dense claiming 2^31 units, say), so before anything is
// built or allocated every weight the layers will create is compared with the tensor the file
// holds for it, its size counted with overflow checks. The file's tensors were checked against
// its bytes when it was read, so building allocates no more than the file holds (the optimizer
// adds slots of the same shapes).
void check_weights_against_file(const Sequential& model, const ModelFile& file, const std::string& path) {
  std::map<std::string, const Tensor*> held;
  for (const auto& [name, t] : file.tensors) held[name] = &t;
  const std::vector<LayerShapes> shapes = model.layer_shapes();
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Layer& layer = *model.layers()[i];
    for (const WeightShape& w : shapes[i].weights) {
      const std::string tensor = layer.name() + "/" + w.name;
      const std::string what = str_cat("model file '", path, "': layer '", layer.name(), "' (", layer.type(),
                                       ") weight '", w.name, "'");
      uint64_t bytes = 0;
      if (__builtin_mul_overflow(static_cast<uint64_t>(checked_num_elements(w.shape.dims(), what)),
                                 dtype_size(DType::kFloat32), &bytes))
        fail(what, ": shape ", w.shape, " needs more bytes than memory can hold");
      auto it = held.find(tensor);
      if (it == held.end())
        fail(what, " needs float32", w.shape, " (", bytes, " bytes), but the file has no tensor '", tensor,
             "'");
      const Tensor& found = *it->second;
      if (found.shape() != w.shape || found.dtype() != DType::kFloat32)
        fail(what, " needs float32", w.shape, " (", bytes, " bytes), the file holds ",
             dtype_name(found.dtype()), found.shape(), " (", found.nbytes(), " bytes)");
    }
  }
}

}  // namespace

ModelFile Sequential::to_model_file() {
  build();
  ModelFile file;
  file.settings = {{"kind", "model"}, {"name", options_.name}, {"seed", std::to_string(options_.seed)},
                   {"run_counter", std::to_string(session_->run_counter())}};
  for (const auto& l : layers_) file.layers.push_back(l->config());
  for (const Output& w : all_weights())
    file.tensors.emplace_back(w.node->name, session_->variable_value(w.node));
  if (compiled_) {
    if (compile_options_.loss.fn)
      fail("save: the model uses the custom loss '", compile_options_.loss.name, "', which cannot be saved; ",
           "use save_weights instead");
    std::string metrics;
    for (const auto& m : compile_options_.metrics) metrics += (metrics.empty() ? "" : ",") + m;
    file.settings["loss"] = compile_options_.loss.name;
    file.settings["metrics"] = metrics;
    file.settings["optimizer"] = optimizer_->name();
    for (const auto& [k, v] : optimizer_->config())
      file.settings["optimizer." + k] = exact_double_string(v);  // reloads bitwise equal
    if (optimizer_->schedule()) file.settings["optimizer.learning_rate"] = optimizer_->schedule()->to_json();
    for (const Output& v : optimizer_->variables())
      file.tensors.emplace_back(v.node->name, session_->variable_value(v.node));
  }
  return file;
}

void Sequential::save(const std::string& path) { write_any_model_file(path, to_model_file()); }

void Sequential::save_weights(const std::string& path) {
  build();
  ModelFile file;
  file.settings = {{"kind", "weights"}};
  for (const Output& w : all_weights())
    file.tensors.emplace_back(w.node->name, session_->variable_value(w.node));
  write_model_file(path, file);
}

void Sequential::load_weights(const std::string& path) {
  ModelFile file = read_model_file(path);
  build();
  const std::vector<Output> vars = all_weights();
  // A weights file holds exactly the layers' weights, in order; a model file holds them
  // first, by name, followed by the optimizer's state.
  const bool weights_only = file.settings.count("kind") && file.settings.at("kind") == "weights";
  std::vector<Tensor> weights;
  for (const auto& [name, t] : file.tensors)
    if (weights.size() < vars.size() && (weights_only || name == vars[weights.size()].node->name))
      weights.push_back(t);
  if (weights.size() != vars.size() || (weights_only && file.tensors.size() != vars.size()))
    fail("load_weights: '", path, "' holds ", weights_only ? file.tensors.size() : weights.size(),
         " weight tensors; this model has ", vars.size());
  set_weights(weights);
}

// model_from_file's work, without its wrapping of errors; a friend of Sequential.
Sequential rebuild_model(const ModelFile& file, const std::string& path);

Sequential load_model(const std::string& path) { return model_from_file(read_any_model_file(path), path); }

Sequential model_from_file(const ModelFile& file, const std::string& path) {
  // Everything below interprets the file's contents: an error anywhere names the file.
  try {
    return rebuild_model(file, path);
  } catch (const Error& e) {
    if (std::string(e.what()).find(path) != std::string::npos) throw;
    fail("model file '", path, "': ", e.what());
  } catch (const std::exception& e) {
    fail("model file '", path, "': ", e.what());
  }
}

Sequential rebuild_model(const ModelFile& file, const std::string& path) {
  auto setting = [&](const std::string& key) -> const std::string& {
    auto it = file.settings.find(key);
    if (it == file.settings.end()) fail("model file '", path, "': the setting '", key, "' is missing");
    return it->second;
  };
  if (setting("kind") != "model")
    fail("model file '", path, "' holds only weights; use load_weights on a model");
  Sequential model(
      SequentialOptions{.name = setting("name"), .seed = parse_u64(setting("seed"), path, "seed")});
  for (size_t i = 0; i < file.layers.size(); ++i) model.add(layer_from_file(file.layers[i], path, i));
  check_weights_against_file(model, file, path);
  std::map<std::string, Tensor> tensors(file.tensors.begin(), file.tensors.end());
  auto restore = [&](const Output& v) {
    auto it = tensors.find(v.node->name);
    if (it == tensors.end()) fail("model file '", path, "': the tensor '", v.node->name, "' is missing");
    if (it->second.shape() != v.shape() || it->second.dtype() != v.dtype())
      fail("model file '", path, "': tensor '", v.node->name, "' is ", dtype_name(it->second.dtype()),
           it->second.shape(), ", the model needs ", dtype_name(v.dtype()), v.shape());
    model.session_->set_variable_value(v.node, it->second);
  };
  model.build();
  for (const Output& w : model.all_weights()) restore(w);
  if (file.settings.count("loss")) {
    const OptimizerSettings settings = optimizer_settings(file);
    std::shared_ptr<const optimizers::schedules::LearningRateSchedule> schedule;
    if (!settings.schedule_json.empty()) schedule = optimizers::schedules::from_json(settings.schedule_json);
    std::vector<std::string> metrics;
    std::stringstream ms(setting("metrics"));
    for (std::string m; std::getline(ms, m, ',');)
      if (!m.empty()) metrics.push_back(m);
    model.compile({.loss = setting("loss"),
                   .optimizer = optimizers::from_config(setting("optimizer"), settings.numbers, schedule),
                   .metrics = metrics});
    // Files of other frameworks carry no optimizer state Horn can use: training resumes fresh.
    const auto state = file.settings.find("optimizer_state");
    if (state == file.settings.end() || state->second != "none")
      for (const Output& v : model.optimizer_->variables()) restore(v);
  }
  model.session_->set_run_counter(parse_u64(setting("run_counter"), path, "run_counter"));
  return model;
}

}  // namespace horn::keras
