// Data helpers from keras.utils and the tutorials' NumPy one-liners.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace horn::keras::utils {

// Integer class labels [N] -> one-hot float32 rows [N, num_classes]. Throws for a label
// outside [0, num_classes).
Tensor to_categorical(const Tensor& labels, int64_t num_classes);

// x.reshape(rows, -1).astype('float32') * scale, e.g. images [60000,28,28] -> [60000,784] / 255.
Tensor flatten_and_scale(const Tensor& x, double scale);

}  // namespace horn::keras::utils
