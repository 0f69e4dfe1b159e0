#include "keras_api/h5_format.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "keras_api/hdf5_file.h"
#include "keras_api/hdf5_guard.h"
#include "keras_api/keras_config_json.h"

namespace horn::keras {
namespace {

using json = nlohmann::json;
namespace h5 = hdf5;

constexpr size_t kObjectHeaderLimit = 64512;  // Keras's HDF5_OBJECT_HEADER_LIMIT
// The Keras version whose layout Horn writes: Keras applies no legacy conversion to it.
constexpr char kKerasVersion[] = "2.13.1";

// An attribute Keras may have split into <name>0, <name>1, ... (load_attributes_from_hdf5_group).
std::vector<std::string> read_chunked(hid_t object, const std::string& name) {
  if (h5::has_attribute(object, name)) return h5::read_strings(object, name);
  std::vector<std::string> values;
  for (int chunk = 0; h5::has_attribute(object, name + std::to_string(chunk)); ++chunk) {
    std::vector<std::string> part = h5::read_strings(object, name + std::to_string(chunk));
    values.insert(values.end(), part.begin(), part.end());
  }
  return values;
}

// Keras's save_attributes_to_hdf5_group: numpy's array_split into the fewest chunks whose
// fixed-length bytes fit an object header.
void write_chunked(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  size_t width = 1;
  for (const auto& v : values) {
    if (v.size() > kObjectHeaderLimit) fail("the name '", v.substr(0, 40), "...' is too long for an HDF5 attribute");
    width = std::max(width, v.size());
  }
  const size_t n = values.size();
  size_t chunks = 1;
  // array_split gives the first n % chunks chunks ceil(n / chunks) values.
  while (((n + chunks - 1) / chunks) * width > kObjectHeaderLimit) ++chunks;
  if (chunks == 1) return h5::write_strings(object, name, values, h5::StringKind::kFixed, false);
  size_t at = 0;
  for (size_t c = 0; c < chunks; ++c) {
    const size_t size = n / chunks + (c < n % chunks ? 1 : 0);
    h5::write_strings(object, name + std::to_string(c),
                      std::vector<std::string>(values.begin() + at, values.begin() + at + size), h5::StringKind::kFixed,
                      false);
    at += size;
  }
}

std::string single_string(hid_t object, const std::string& name) {
  std::vector<std::string> v = h5::read_strings(object, name);
  if (v.size() != 1) fail("the attribute '", name, "' should be one string, it has ", v.size());
  return v[0];
}

json parse_json_attribute(hid_t object, const std::string& name) {
  const std::string text = single_string(object, name);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail("the attribute '", name, "' is not valid JSON: ", e.what());
  }
}

}  // namespace

namespace {

// The whole read, from the image to the ModelFile; hdf5_mutex() is held by the caller. It runs
// twice (hdf5_guard.h): in the checking process, then here.
ModelFile parse_image(const std::vector<char>& bytes) {
  h5::Id file = h5::open_image(bytes, "the file");
  const hid_t root = file.get();
  if (!h5::has_attribute(root, "model_config"))
    fail("it has no model_config: it holds only weights (save_weights); load them into a model");
  ModelFile out;
  out.settings = {{"kind", "model"}, {"seed", "1234"}, {"run_counter", "0"}};
  const std::string version = h5::has_attribute(root, "keras_version") ? single_string(root, "keras_version") : "";
  read_keras_model_config(parse_json_attribute(root, "model_config"), &out, version);
  if (h5::has_attribute(root, "training_config"))
    read_keras_training_config(parse_json_attribute(root, "training_config"), &out);
  h5::Id weights = h5::open_group(root, "model_weights");
  const std::vector<std::string> layer_names = read_chunked(weights.get(), "layer_names");
  for (const LayerConfig& layer : out.layers) {
    const std::string& layer_name = layer.at("name");
    const std::vector<std::string> horn_names = keras_weight_names(layer);
    if (horn_names.empty()) continue;
    if (std::find(layer_names.begin(), layer_names.end(), layer_name) == layer_names.end())
      fail("layer '", layer_name, "' has weights but is not in model_weights's layer_names");
    h5::Id group = h5::open_group(weights.get(), layer_name);
    const std::vector<std::string> stored = read_chunked(group.get(), "weight_names");
    if (stored.size() != horn_names.size())
      fail("layer '", layer_name, "' (", layer.at("type"), ") stores ", stored.size(), " weights; its config needs ",
           horn_names.size());
    for (size_t i = 0; i < stored.size(); ++i)
      out.tensors.emplace_back(layer_name + "/" + horn_names[i], h5::read_float32(group.get(), stored[i]));
  }
  check_weights_match_layers(out);
  return out;
}

}  // namespace

ModelFile parse_keras_h5(const std::vector<char>& bytes, const std::string& name) {
  const std::string context = "Keras HDF5 model '" + name + "': ";
  try {
    return h5::read_untrusted(bytes.size(), [&] { return parse_image(bytes); });
  } catch (const DamagedHdf5Error& e) {
    throw e.in(context);
  } catch (const std::exception& e) {
    fail(context, e.what());
  }
}

ModelFile read_keras_h5(const std::string& path) {
  return parse_keras_h5(read_whole_file(path, "Keras HDF5 model"), path);
}

std::vector<char> serialize_keras_h5(const ModelFile& file) {
  std::lock_guard<std::mutex> lock(h5::hdf5_mutex());
  using h5::StringKind;
  h5::Id f = h5::create_in_memory();
  const hid_t root = f.get();
  // Configs as variable-length strings: they live in the file's heap, so no object-header
  // limit applies to large models (Keras 2's fixed-length bytes would fail there).
  h5::write_strings(root, "keras_version", {kKerasVersion}, StringKind::kVariable, true);
  h5::write_strings(root, "backend", {"tensorflow"}, StringKind::kVariable, true);
  h5::write_strings(root, "model_config", {keras_model_config(file).dump()}, StringKind::kVariable, true);
  if (file.settings.count("loss")) {
    json training = keras_training_config(file, KerasDialect::kKeras);
    training["loss_weights"] = nullptr;
    training["weighted_metrics"] = nullptr;
    h5::write_strings(root, "training_config", {training.dump()}, StringKind::kVariable, true);
  }
  h5::Id weights = h5::create_group(root, "model_weights");
  std::vector<std::string> layer_names;
  for (const LayerConfig& layer : file.layers) layer_names.push_back(layer.at("name"));
  write_chunked(weights.get(), "layer_names", layer_names);
  h5::write_strings(weights.get(), "keras_version", {kKerasVersion}, StringKind::kVariable, true);
  h5::write_strings(weights.get(), "backend", {"tensorflow"}, StringKind::kVariable, true);
  std::map<std::string, const Tensor*> tensors;
  for (const auto& [name, t] : file.tensors) tensors[name] = &t;
  for (const LayerConfig& layer : file.layers) {
    const std::string& layer_name = layer.at("name");
    h5::Id group = h5::create_group(weights.get(), layer_name);
    std::vector<std::string> names;
    for (const std::string& w : keras_weight_names(layer)) {
      auto it = tensors.find(layer_name + "/" + w);
      if (it == tensors.end()) fail("cannot write a Keras HDF5 model: the weight '", layer_name, "/", w, "' is missing");
      if (it->second->dtype() != DType::kFloat32)
        fail("cannot write a Keras HDF5 model: the weight '", it->first, "' is not float32");
      names.push_back(layer_name + "/" + w + ":0");
      h5::write_float32(group.get(), names.back(), *it->second);
    }
    write_chunked(group.get(), "weight_names", names);
  }
  return h5::image(root);
}

void write_keras_h5(const std::string& path, const ModelFile& file, const FileSystemCalls& calls) {
  std::vector<char> bytes;
  try {
    bytes = serialize_keras_h5(file);
  } catch (const Error& e) {
    fail("cannot write Keras HDF5 model '", path, "': ", e.what());
  }
  write_file_atomically(path, bytes, "Keras HDF5 model", calls);
}

}  // namespace horn::keras
