// MNIST as Keras's mnist.load_data() gives it: ((x_train, y_train), (x_test, y_test)) with
// uint8 images [60000,28,28] / [10000,28,28] and uint8 labels [60000] / [10000].
//
// Reads the four IDX files, raw or gzip-compressed (".gz"), from `directory`, or when it is
// empty from $HORN_DATASETS/mnist, or else ~/.horn/datasets/mnist (tools/get_mnist.sh
// puts them there).
#pragma once
#include <string>
#include <utility>

#include "core/tensor.h"

namespace horn::keras::datasets::mnist {

using Split = std::pair<Tensor, Tensor>;  // (images, labels)

std::pair<Split, Split> load_data(const std::string& directory = "");
std::string default_directory();

// One IDX file (images: magic 2051, rank 3; labels: magic 2049, rank 1) as uint8.
Tensor read_idx(const std::string& path, int expected_rank);

// A data set in MNIST's four files and names (Fashion-MNIST is one), ten classes: its name and
// how to get it, for the errors.
struct IdxDataSet {
  std::string name, how_to_get;
};
std::pair<Split, Split> load_idx_data_set(const IdxDataSet& set, const std::string& directory);

}  // namespace horn::keras::datasets::mnist
