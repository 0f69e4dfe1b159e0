// The IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/): a big-endian header
// (0, 0, type 0x08 = unsigned bytes, rank; then rank u32 dimensions) and the data. The
// header is hostile until checked: the dimensions' product is overflow-checked and compared
// with what the file really holds before anything is allocated.
#pragma once
#include <span>
#include <string>

#include "core/tensor.h"

namespace horn::keras::datasets {

// Parses an IDX file held in memory, raw or gzip-compressed (told apart by the gzip magic),
// into a uint8 tensor of rank `expected_rank`. `name` (the path) goes into every error.
Tensor parse_idx(std::span<const char> file_bytes, const std::string& name, int expected_rank);

}  // namespace horn::keras::datasets
