// TensorFlow.js Layers model files, read into and written from Horn's ModelFile.
//
// Layout (what tfjs.converters and tf.LayersModel.save write):
//   <dir>/model.json   {"format": "layers-model", "modelTopology": <Keras model config>,
//                       "trainingConfig": {...} (optional),
//                       "weightsManifest": [{"paths": ["group1-shard1of1.bin", ...],
//                                            "weights": [{"name": "dense/kernel",
//                                                         "shape": [784, 10],
//                                                         "dtype": "float32"}, ...]}, ...]}
//   <dir>/group1-shard1of1.bin   each group's weights, raw little-endian, in manifest order,
//                                split over the group's paths in order.
// The converter's older layout, modelTopology = {"model_config": ..., "training_config": ...},
// is read too. Weights of the group "optimizer" (TensorFlow.js's includeOptimizer) are skipped:
// training resumes with fresh optimizer state.
//
// Hostile files: every field is type-checked; shard names must be plain file names in the
// model's directory; each weight's bytes (a checked product of its shape) are compared with
// what its shards hold before anything is allocated; errors name the file and the weight.
#pragma once
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "keras_api/file_io.h"
#include "keras_api/model_file.h"

namespace horn::keras {

inline constexpr char kTfjsShardName[] = "group1-shard1of1.bin";

// `model_json` is model.json's bytes; `read_shard` returns a shard's bytes by its manifest name.
// `name` (the path) goes into every error.
ModelFile parse_tfjs_model(std::span<const char> model_json,
                           const std::function<std::vector<char>(const std::string&)>& read_shard,
                           const std::string& name);
// `path` is a model.json or the directory holding it.
ModelFile read_tfjs_model(const std::string& path);

// Writes <dir>/group1-shard1of1.bin, then <dir>/model.json, each atomically (file_io.h):
// model.json is written last, so a reader that finds the new model.json finds its weights.
// `json_path` names the model.json; its directory is created if it is missing. A compiled
// model's loss, metrics and optimizer go into trainingConfig in TensorFlow.js's spelling;
// optimizer state is not written (TensorFlow.js keeps none by default either).
void write_tfjs_model(const std::string& json_path, const ModelFile& file,
                      const FileSystemCalls& calls = posix_calls());

}  // namespace horn::keras
