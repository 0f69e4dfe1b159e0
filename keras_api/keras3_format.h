// Keras 3 .keras model files (`model.save("x.keras")` in Keras 3), read into and written from
// Horn's ModelFile. The layout (Keras 3's keras/src/saving/saving_lib.py):
//   a zip archive (Keras stores its entries uncompressed; deflated ones are read too) of
//   metadata.json     {"keras_version": "3.6.0", "date_saved": "2026-11-29@20:14:03"}
//   config.json       the serialized model: {"module": "keras", "class_name": "Sequential",
//                     "config": {"name", "layers": [{"module", "class_name", "config",
//                     "registered_name", "build_config"}, ...]}, "compile_config": {...}}
//   model.weights.h5  HDF5: layers/<entry>/vars/0, /1, ... one group per layer of model.layers,
//                     <entry> being the layer's class in snake case made unique in order (dense,
//                     dense_1, conv2d, max_pooling2d, ...; not the layer's name), each layer's
//                     variables trainable first (kernel, bias; gamma, beta, moving_mean,
//                     moving_variance); optimizer/vars/... holds optimizer state.
// Keras 2.13's .keras files (the same, the container named _layer_checkpoint_dependencies) are
// read too. Optimizer state is neither read (training resumes with fresh state, as from .h5)
// nor written (Keras 3 then warns and starts fresh). Keras 3's configs differ from Keras 2's
// (dtype policies, initializer objects with modules, InputLayer batch_shape, build configs,
// LeakyReLU's negative_slope): both are read, Keras 3's is written. Keras 3 redefined
// hard_sigmoid, so a .keras file using it is refused both ways.
//
// Hostile files: the archive's entries are size-checked before they are read (zip_archive.h),
// the configs type-checked, the weights read as from .h5 (hdf5_file.h) and compared with the
// layers' configs before anything is built; errors name the file, the layer and the entry.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "keras_api/file_io.h"
#include "keras_api/model_file.h"

namespace horn::keras {

// `name` (the path) goes into every error.
ModelFile parse_keras3(std::span<const char> bytes, const std::string& name);
ModelFile read_keras3(const std::string& path);
std::vector<char> serialize_keras3(const ModelFile& file);
void write_keras3(const std::string& path, const ModelFile& file, const FileSystemCalls& calls = posix_calls());

// Keras 3's path in model.weights.h5 of each layer of `layers` ("dense", "dense_1", ...).
std::vector<std::string> keras3_layer_paths(const std::vector<LayerConfig>& layers);

}  // namespace horn::keras
