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

// x.reshape(N, rows, cols, 1).astype('float32') * scale: grayscale images [N,rows,cols] as
// the NHWC input of a Conv2D, e.g. MNIST [60000,28,28] -> [60000,28,28,1] / 255.
Tensor to_nhwc_and_scale(const Tensor& images, double scale);

}  // namespace horn::keras::utils
