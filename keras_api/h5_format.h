// Keras 2 HDF5 model files (.h5, `model.save("x.h5")` in Keras 2 and tf.keras), read into and
// written from Horn's ModelFile. The layout (Keras's hdf5_format.py):
//   /                        attrs keras_version, backend, model_config (JSON),
//                            training_config (JSON, when compiled)
//   /model_weights           attrs layer_names (every layer, in order), keras_version, backend
//   /model_weights/<layer>   attr weight_names: "<layer>/kernel:0", "<layer>/bias:0", ...
//   /model_weights/<layer>/<weight name>   float32 datasets
//   /optimizer_weights       (optional; not read: training resumes with fresh optimizer state)
// An attribute too large for an HDF5 object header (64512 bytes) is split by Keras into
// <name>0, <name>1, ...; both forms are read, and written the way Keras splits. Strings may be
// fixed-length (numpy bytes) or variable-length (Python str); both are read. Keras 3's legacy
// .h5 files (weight names without ":0", batch_shape, dtype policies) are read too: a layer's
// weights are taken in the order of its weight_names, as Keras does.
#pragma once
#include <string>
#include <vector>

#include "keras_api/file_io.h"
#include "keras_api/model_file.h"

namespace horn::keras {

// HDF5's signature, the first 8 bytes of an .h5 file.
inline constexpr char kHdf5Magic[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

// `name` (the path) goes into every error.
ModelFile parse_keras_h5(const std::vector<char>& bytes, const std::string& name);
ModelFile read_keras_h5(const std::string& path);
std::vector<char> serialize_keras_h5(const ModelFile& file);
void write_keras_h5(const std::string& path, const ModelFile& file, const FileSystemCalls& calls = posix_calls());

}  // namespace horn::keras
