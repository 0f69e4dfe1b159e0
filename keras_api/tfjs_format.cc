#include "keras_api/tfjs_format.h"

#include <sys/stat.h>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "keras_api/keras_config_json.h"

namespace horn::keras {
namespace {

using json = nlohmann::json;

json parse_json(std::span<const char> bytes, const std::string& what) {
  try {
    return json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    fail(what, " is not valid JSON: ", e.what());
  }
}

// A shard's name from the manifest: a plain file name beside model.json, never a path out of it.
std::string checked_shard_name(const json& p) {
  if (!p.is_string()) fail("a weightsManifest path is not a string");
  const std::string s = p;
  if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos || s.find('\0') != std::string::npos)
    fail("the weightsManifest path '", s, "' is not a file name in the model's directory");
  return s;
}

size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "bool" || dtype == "uint8" || dtype == "int8") return 1;
  if (dtype == "float16" || dtype == "int16" || dtype == "uint16") return 2;
  return 0;
}

// One manifest group: its weights are read from the concatenation of its shards.
void read_group(const json& group, const std::function<std::vector<char>(const std::string&)>& read_shard,
                ModelFile* file) {
  if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array() || !group.contains("weights") ||
      !group["weights"].is_array())
    fail("a weightsManifest entry needs \"paths\" and \"weights\" lists");
  std::vector<char> bytes;
  for (const json& p : group["paths"]) {
    const std::string shard = checked_shard_name(p);
    std::vector<char> part = read_shard(shard);
    bytes.insert(bytes.end(), part.begin(), part.end());
  }
  size_t at = 0;
  for (const json& w : group["weights"]) {
    if (!w.is_object() || !w.contains("name") || !w["name"].is_string())
      fail("a weightsManifest weight has no name");
    const std::string name = w["name"];
    const std::string what = "the weight '" + name + "'";
    if (w.contains("quantization")) fail(what, " is quantized; Horn reads float32 weights");
    const std::string dtype = w.contains("dtype") && w["dtype"].is_string() ? w["dtype"].get<std::string>() : "?";
    if (!w.contains("shape") || !w["shape"].is_array()) fail(what, " has no shape");
    std::vector<int64_t> dims;
    for (const json& d : w["shape"]) {
      if (!d.is_number_integer() && !d.is_number_unsigned()) fail(what, " has a shape entry that is not an integer");
      if (d.is_number_unsigned() && d.get<uint64_t>() > uint64_t{INT64_MAX}) fail(what, ": a dimension overflows int64");
      dims.push_back(d.get<int64_t>());
    }
    const size_t element = dtype_bytes(dtype);
    if (element == 0) fail(what, " has dtype '", dtype, "'; Horn reads float32 weights");
    const int64_t count = checked_num_elements(dims, what);
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(count), element, &nbytes) || nbytes > bytes.size() - at)
      fail(what, " (", dtype, Shape(dims), ") needs ", count, " x ", element, " bytes; its shards hold ",
           bytes.size() - at, " more bytes");
    const char* data = bytes.data() + at;
    at += nbytes;
    const bool optimizer_state = w.contains("group") && w["group"] == "optimizer";
    if (optimizer_state) continue;
    if (dtype != "float32") fail(what, " has dtype '", dtype, "'; Horn reads float32 weights");
    for (const auto& [existing, t] : file->tensors)
      if (existing == name) fail(what, " is listed twice");
    Tensor t(DType::kFloat32, Shape(dims));  // sized against the shard bytes above
    if (nbytes) std::memcpy(t.raw_data(), data, nbytes);
    file->tensors.emplace_back(name, std::move(t));
  }
  if (at != bytes.size())
    fail("the shards of a weightsManifest entry hold ", bytes.size(), " bytes; its weights use ", at);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

ModelFile parse_tfjs_model(std::span<const char> model_json,
                           const std::function<std::vector<char>(const std::string&)>& read_shard,
                           const std::string& name) {
  try {
    const json root = parse_json(model_json, "model.json");
    if (!root.is_object() || !root.contains("modelTopology") || !root.contains("weightsManifest"))
      fail("not a TensorFlow.js Layers model: model.json needs \"modelTopology\" and \"weightsManifest\"");
    if (root.contains("format") && root["format"] != "layers-model")
      fail("the format ", root["format"].dump(), " is not supported; Horn reads \"layers-model\"");
    ModelFile file;
    file.settings = {{"kind", "model"}, {"seed", "1234"}, {"run_counter", "0"}};
    const json& topology = root["modelTopology"];
    const bool nested = topology.is_object() && topology.contains("model_config");
    read_keras_model_config(nested ? topology["model_config"] : topology, &file);
    const json* training = root.contains("trainingConfig") ? &root["trainingConfig"]
                           : nested && topology.contains("training_config") ? &topology["training_config"]
                                                                             : nullptr;
    if (training && !training->is_null()) read_keras_training_config(*training, &file);
    if (!root["weightsManifest"].is_array()) fail("\"weightsManifest\" is not a list");
    for (const json& group : root["weightsManifest"]) read_group(group, read_shard, &file);
    check_weights_match_layers(file);
    return file;
  } catch (const std::exception& e) {  // Error, or a JSON library error on an odd value
    fail("TensorFlow.js model '", name, "': ", e.what());
  }
}

ModelFile read_tfjs_model(const std::string& path) {
  const std::string json_path = is_directory(path) ? path + "/model.json" : path;
  const std::string dir = directory_of(json_path);
  const std::vector<char> text = read_whole_file(json_path, "TensorFlow.js model");
  return parse_tfjs_model(
      text, [&](const std::string& shard) { return read_whole_file(dir + "/" + shard, "weight shard"); },
      json_path);
}

void write_tfjs_model(const std::string& json_path, const ModelFile& file, const FileSystemCalls& calls) {
  const std::string dir = directory_of(json_path);
  if (!is_directory(dir) && ::mkdir(dir.c_str(), 0777) != 0 && !is_directory(dir))
    fail("cannot write TensorFlow.js model '", json_path, "': cannot create the directory '", dir, "': ",
         std::strerror(errno));
  for (const LayerConfig& layer : file.layers)  // Keras 2 has it; tf.loadLayersModel would refuse it
    if (layer.count("activation") && layer.at("activation") == "exponential")
      fail("cannot write TensorFlow.js model '", json_path, "': layer '", layer.at("name"),
           "' uses the activation \"exponential\", which TensorFlow.js lacks");
  for (const LayerConfig& layer : file.layers)  // TensorFlow.js layers have a dtype, not a policy
    if (layer.count("dtype"))
      fail("cannot write TensorFlow.js model '", json_path, "': layer '", layer.at("name"), "' has the dtype policy \"",
           layer.at("dtype"), "\", which TensorFlow.js lacks; save as .h5 or .horn");
  std::map<std::string, const Tensor*> tensors;
  for (const auto& [name, t] : file.tensors) tensors[name] = &t;
  json weights = json::array();
  std::vector<char> shard;
  for (const LayerConfig& layer : file.layers)
    for (const std::string& w : keras_weight_names(layer)) {
      const std::string name = layer.at("name") + "/" + w;
      auto it = tensors.find(name);
      if (it == tensors.end()) fail("cannot write TensorFlow.js model '", json_path, "': the weight '", name, "' is missing");
      const Tensor& t = *it->second;
      if (t.dtype() != DType::kFloat32)
        fail("cannot write TensorFlow.js model '", json_path, "': the weight '", name, "' is ", dtype_name(t.dtype()),
             "; TensorFlow.js files hold float32");
      weights.push_back({{"name", name}, {"shape", t.shape().dims()}, {"dtype", "float32"}});
      const char* data = static_cast<const char*>(t.raw_data());
      shard.insert(shard.end(), data, data + t.nbytes());
    }
  json topology = keras_model_config(file);
  topology["keras_version"] = "tfjs-layers 4.22.0";  // the Keras dialect Horn writes: TensorFlow.js's
  topology["backend"] = "tensor_flow.js";
  json root = {{"format", "layers-model"},
               {"generatedBy", "Horn"},
               {"convertedBy", nullptr},
               {"modelTopology", topology},
               {"weightsManifest", json::array({{{"paths", {kTfjsShardName}}, {"weights", weights}}})}};
  if (file.settings.count("loss")) root["trainingConfig"] = keras_training_config(file, KerasDialect::kTfjs);
  const std::string text = root.dump();
  write_file_atomically(dir + "/" + kTfjsShardName, shard, "weight shard", calls);
  write_file_atomically(json_path, std::span<const char>(text.data(), text.size()), "TensorFlow.js model", calls);
}

}  // namespace horn::keras
