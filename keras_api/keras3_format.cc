#include "keras_api/keras3_format.h"

#include <cctype>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>

#include "keras_api/hdf5_file.h"
#include "keras_api/hdf5_guard.h"
#include "keras_api/keras_config_json.h"
#include "keras_api/zip_archive.h"

namespace horn::keras {
namespace {

using json = nlohmann::json;
namespace h5 = hdf5;

constexpr char kConfig[] = "config.json";
constexpr char kMetadata[] = "metadata.json";
constexpr char kWeights[] = "model.weights.h5";
// The Keras version Horn's .keras files say they come from: the layout above is Keras 3.6's.
constexpr char kKeras3Version[] = "3.6.0";

json parse_json(const std::vector<char>& bytes, const char* entry) {
  try {
    return json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    fail("'", entry, "' is not valid JSON: ", e.what());
  }
}

// Keras's naming.to_snake_case: "MaxPooling2D" -> "max_pooling2d", "LeakyReLU" -> "leaky_re_lu".
std::string keras_snake_case(const std::string& name) {
  std::string s = std::regex_replace(name, std::regex("[^A-Za-z0-9_]+"), "");
  s = std::regex_replace(s, std::regex("(.)([A-Z][a-z]+)"), "$1_$2");
  s = std::regex_replace(s, std::regex("([a-z])([A-Z])"), "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The weights of `layers` from model.weights.h5, by Keras 3's paths; hdf5_mutex() is held by the
// caller. It runs twice (hdf5_guard.h): in the checking process, then here.
NamedTensors read_weights(const std::vector<char>& bytes, const std::vector<LayerConfig>& layers) {
  NamedTensors tensors;
  h5::Id file = h5::open_image(bytes, std::string("'") + kWeights + "'");
  const hid_t f = file.get();
  const std::string root = !h5::has_link(f, "layers") && h5::has_link(f, "_layer_checkpoint_dependencies")
                               ? "_layer_checkpoint_dependencies"
                               : "layers";
  const std::vector<std::string> paths = keras3_layer_paths(layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerConfig& layer = layers[i];
    const std::vector<std::string> names = keras_weight_names(layer);
    if (names.empty()) continue;
    const std::string& layer_name = layer.at("name");
    const std::string vars = root + "/" + paths[i] + "/vars";
    try {
      if (!h5::has_link(f, vars)) fail("it has weights, but ", kWeights, " has no group '", vars, "'");
      const size_t held = h5::count_links(f, vars);
      if (held != names.size()) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        fail("'", vars, "' holds ", held, " variables; the layer's config needs ", names.size(), " (", list, ")");
      }
      for (size_t j = 0; j < names.size(); ++j)
        tensors.emplace_back(layer_name + "/" + names[j], h5::read_float32(f, vars + "/" + std::to_string(j)));
    } catch (const std::exception& e) {
      fail("layer '", layer_name, "' (", layer.at("type"), "): ", e.what());
    }
  }
  return tensors;
}

std::vector<char> weights_h5(const ModelFile& file) {
  std::lock_guard<std::mutex> lock(h5::hdf5_mutex());
  h5::Id f = h5::create_in_memory();
  const hid_t root = f.get();
  h5::create_group(root, "vars");  // the model's own variables: none
  std::map<std::string, const Tensor*> tensors;
  for (const auto& [name, t] : file.tensors) tensors[name] = &t;
  const std::vector<std::string> paths = keras3_layer_paths(file.layers);
  for (size_t i = 0; i < file.layers.size(); ++i) {
    const LayerConfig& layer = file.layers[i];
    if (layer.at("type") == "InputLayer") continue;  // not in a Sequential's model.layers
    const std::string vars = "layers/" + paths[i] + "/vars";
    h5::create_group(root, vars);
    const std::vector<std::string> names = keras_weight_names(layer);
    for (size_t j = 0; j < names.size(); ++j) {
      const std::string name = layer.at("name") + "/" + names[j];
      auto it = tensors.find(name);
      if (it == tensors.end()) fail("the weight '", name, "' is missing");
      if (it->second->dtype() != DType::kFloat32) fail("the weight '", name, "' is not float32");
      h5::write_float32(root, vars + "/" + std::to_string(j), *it->second);
    }
  }
  return h5::image(root);
}

std::string date_saved() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d@%H:%M:%S", &local);
  return text;
}

}  // namespace

std::vector<std::string> keras3_layer_paths(const std::vector<LayerConfig>& layers) {
  std::map<std::string, int> used;
  std::vector<std::string> paths;
  for (const LayerConfig& layer : layers) {
    const std::string base = keras_snake_case(layer.at("type"));
    auto [it, fresh] = used.emplace(base, 0);
    paths.push_back(fresh ? base : base + "_" + std::to_string(++it->second));
  }
  return paths;
}

ModelFile parse_keras3(std::span<const char> bytes, const std::string& name) {
  try {
    const ziparchive::Reader zip(bytes, "the archive");
    if (!zip.has(kWeights) && zip.has("model.weights.npz"))
      fail("its weights are in model.weights.npz; Horn reads ", kWeights);
    for (const char* entry : {kConfig, kWeights})
      if (!zip.has(entry))
        fail("the archive has no '", entry, "' (a .keras file holds ", kConfig, ", ", kMetadata, " and ", kWeights, ")");
    // Without metadata the file is taken for Keras 3's, whose hard_sigmoid Horn refuses.
    std::string version = "3";
    if (zip.has(kMetadata)) {
      const json meta = parse_json(zip.read(kMetadata), kMetadata);
      if (!meta.is_object() || !meta.contains("keras_version") || !meta["keras_version"].is_string())
        fail("'", kMetadata, "' has no \"keras_version\"");
      version = meta["keras_version"];
    }
    const json config = parse_json(zip.read(kConfig), kConfig);
    ModelFile out;
    out.settings = {{"kind", "model"}, {"seed", "1234"}, {"run_counter", "0"}};
    read_keras_model_config(config, &out, version);
    if (config.contains("compile_config") && !config["compile_config"].is_null())
      read_keras_compile_config(config["compile_config"], &out);
    const std::vector<char> weights = zip.read(kWeights);
    out.tensors = h5::read_untrusted(weights.size(), [&] { return read_weights(weights, out.layers); });
    check_weights_match_layers(out);
    return out;
  } catch (const DamagedHdf5Error& e) {
    throw e.in(str_cat("Keras model '", name, "': '", kWeights, "': "));
  } catch (const std::exception& e) {
    fail("Keras model '", name, "': ", e.what());
  }
}

ModelFile read_keras3(const std::string& path) { return parse_keras3(read_whole_file(path, "Keras model"), path); }

std::vector<char> serialize_keras3(const ModelFile& file) {
  json config = keras_model_config(file, KerasVersion::k3);
  if (file.settings.count("loss")) config["compile_config"] = keras_compile_config(file);
  const std::string config_text = config.dump();
  const std::string metadata = json{{"keras_version", kKeras3Version}, {"date_saved", date_saved()}}.dump();
  const std::vector<char> weights = weights_h5(file);
  return ziparchive::write_stored({{kMetadata, metadata}, {kConfig, config_text}, {kWeights, weights}});
}

void write_keras3(const std::string& path, const ModelFile& file, const FileSystemCalls& calls) {
  std::vector<char> bytes;
  try {
    bytes = serialize_keras3(file);
  } catch (const std::exception& e) {
    fail("cannot write Keras model '", path, "': ", e.what());
  }
  write_file_atomically(path, bytes, "Keras model", calls);
}

}  // namespace horn::keras
