#include "keras_api/datasets/mnist.h"

#include <cstdlib>
#include <fstream>

#include "keras_api/datasets/idx.h"
#include "keras_api/file_io.h"

namespace horn::keras::datasets::mnist {
namespace {

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// The file itself, or its ".gz" sibling.
std::string locate(const IdxDataSet& set, const std::string& dir, const std::string& name) {
  for (const std::string& candidate : {dir + "/" + name, dir + "/" + name + ".gz"})
    if (exists(candidate)) return candidate;
  fail(set.name, ": missing file '", dir, "/", name, "' (nor .gz); ", set.how_to_get);
}

}  // namespace

std::string default_directory() {
  if (const char* root = std::getenv("HORN_DATASETS"); root && *root) return std::string(root) + "/mnist";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.horn/datasets/mnist";
}

Tensor read_idx(const std::string& path, int expected_rank) {
  return parse_idx(read_whole_file(path, "MNIST file"), path, expected_rank);
}

std::pair<Split, Split> load_idx_data_set(const IdxDataSet& set, const std::string& dir) {
  auto load = [&](const std::string& images_name, const std::string& labels_name) {
    const std::string images_path = locate(set, dir, images_name), labels_path = locate(set, dir, labels_name);
    Tensor images = read_idx(images_path, 3);
    Tensor labels = read_idx(labels_path, 1);
    if (images.dim(0) != labels.dim(0))
      fail(set.name, ": '", images_path, "' has ", images.dim(0), " images but '", labels_path, "' has ",
           labels.dim(0), " labels");
    const uint8_t* l = labels.data<uint8_t>();
    for (int64_t i = 0; i < labels.size(); ++i)
      if (l[i] > 9)
        fail(set.name, ": '", labels_path, "': label ", int(l[i]), " of sample ", i, " is outside 0-9");
    return Split{images, labels};
  };
  return {load("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")};
}

std::pair<Split, Split> load_data(const std::string& directory) {
  return load_idx_data_set({"MNIST", "run tools/get_mnist.sh to fetch the data set"},
                           directory.empty() ? default_directory() : directory);
}

}  // namespace horn::keras::datasets::mnist
