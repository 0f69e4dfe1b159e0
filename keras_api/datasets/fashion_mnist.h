// Fashion-MNIST as Keras's fashion_mnist.load_data() gives it: MNIST's shapes and file layout
// (uint8 images [60000,28,28] / [10000,28,28], labels 0-9: T-shirt/top, Trouser, Pullover,
// Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot).
//
// Reads from `directory`, or when it is empty from $HORN_DATASETS/fashion-mnist if that
// exists, else from Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist,
// installed by tools/setup.sh).
#pragma once
#include <string>
#include <utility>

#include "keras_api/datasets/mnist.h"

namespace horn::keras::datasets::fashion_mnist {

using Split = mnist::Split;

std::pair<Split, Split> load_data(const std::string& directory = "");
std::string default_directory();

}  // namespace horn::keras::datasets::fashion_mnist
