// Converts a model between Horn's .horn, Keras 2 .h5, Keras 3 .keras and TensorFlow.js Layers:
//
//   bazel run //tools:convert -- my_tfjs_model/ model.h5      # TensorFlow.js -> Keras .h5
//   bazel run //tools:convert -- model.h5 web_model/          # Keras .h5 -> TensorFlow.js
//   bazel run //tools:convert -- model.h5 model.horn
//   bazel run //tools:convert -- model.keras web_model/        # Keras 3 -> TensorFlow.js
//
// The input's format is found from its content, the output's from its name (as Sequential::save
// chooses it, keras_api/model_formats.h). The model is rebuilt on the way, so everything the
// readers check is checked, and what the output format cannot hold is refused by name.
#include <cstdlib>
#include <iostream>
#include <string>

#include "keras_api/keras.h"
#include "keras_api/model_formats.h"

namespace {

// `bazel run` starts in the runfiles tree; paths on the command line are the user's.
std::string from_user_directory(const std::string& path) {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (!dir || path.empty() || path[0] == '/') return path;
  return std::string(dir) + "/" + path;
}

const char* format_name(horn::keras::ModelFormat f) {
  switch (f) {
    case horn::keras::ModelFormat::kHorn: return ".horn";
    case horn::keras::ModelFormat::kTfjs: return "TensorFlow.js Layers";
    case horn::keras::ModelFormat::kKerasH5: return "Keras 2 HDF5";
    case horn::keras::ModelFormat::kKeras3: return "Keras 3 .keras";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: convert IN OUT\n"
                 "  IN:  a .horn file, a Keras .h5 or .keras file, or a TensorFlow.js model.json or its directory\n"
                 "  OUT: *.h5 / *.hdf5 (Keras 2), *.keras (Keras 3), a path ending in / or .json (TensorFlow.js),\n"
                 "       anything else (.horn)\n";
    return 2;
  }
  const std::string in = from_user_directory(argv[1]), out = from_user_directory(argv[2]);
  try {
    horn::keras::Sequential model = horn::keras::load_model(in);
    model.save(out);
    std::cout << "convert: " << argv[1] << " (" << format_name(horn::keras::format_of_saved_model(in)) << ", "
              << model.layers().size() << " layers, " << model.count_params() << " parameters) -> " << argv[2]
              << " (" << format_name(horn::keras::format_for_saving(out)) << ")\n";
  } catch (const std::exception& e) {
    std::cerr << "convert: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
