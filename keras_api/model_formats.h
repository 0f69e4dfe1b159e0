// The model file formats load_model and Sequential::save speak, and how each is chosen.
//
//   load_model(path) looks at the content: Horn's magic "HORNMODL" is a .horn file, HDF5's
//   signature a Keras 2 .h5 model (h5_format.h), a zip archive's "PK\3\4" a Keras 3 .keras
//   model (keras3_format.h); a directory holding model.json, or a JSON file, is a TensorFlow.js
//   Layers model (tfjs_format.h).
//   save(path) goes by the name, as Keras's save does: ".h5" or ".hdf5" is Keras 2's HDF5;
//   ".keras" is Keras 3's zip; a
//   path ending in "/" or ".json" is a TensorFlow.js model (<dir>/model.json and its weight
//   shard, the layout tf.loadLayersModel reads); anything else is a .horn file (so saving onto
//   an existing directory by mistake is an error, not a TensorFlow.js export).
// Every format is read into and written from a ModelFile (model_file.h), so a model rebuilt from
// any of them goes through the same checks.
#pragma once
#include <string>

#include "keras_api/model_file.h"

namespace horn::keras {

enum class ModelFormat { kHorn, kTfjs, kKerasH5, kKeras3 };

ModelFormat format_of_saved_model(const std::string& path);  // by content; throws if unreadable
ModelFormat format_for_saving(const std::string& path);      // by name
// For kTfjs: the model.json that `path` names.
std::string tfjs_model_json_path(const std::string& path);

ModelFile read_any_model_file(const std::string& path);
void write_any_model_file(const std::string& path, const ModelFile& file);

}  // namespace horn::keras
