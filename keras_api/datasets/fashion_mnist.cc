#include "keras_api/datasets/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>

namespace horn::keras::datasets::fashion_mnist {

std::string default_directory() {
  if (const char* root = std::getenv("HORN_DATASETS"); root && *root) {
    const std::string own = std::string(root) + "/fashion-mnist";
    std::error_code ec;
    if (std::filesystem::is_directory(own, ec)) return own;
  }
  return "/usr/share/datasets/fashion-mnist";
}

std::pair<Split, Split> load_data(const std::string& directory) {
  return mnist::load_idx_data_set(
      {"Fashion-MNIST", "install Debian's dataset-fashion-mnist (tools/setup.sh does) or pass its directory"},
      directory.empty() ? default_directory() : directory);
}

}  // namespace horn::keras::datasets::fashion_mnist
