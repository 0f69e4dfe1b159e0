// SessionOptions::check_numerics (TensorFlow's tf.debugging.enable_check_numerics): after each
// node, its float outputs are scanned, and the first NaN or infinity stops the run with an
// Error naming the op (with the ops a fused node holds), the node, its layer and the run.
#pragma once
#include <cstdint>
#include <vector>

#include "core/graph.h"
#include "core/tensor.h"

namespace horn::runtime {

// Throws when an output of `node` holds a NaN or an infinity.
void check_numerics(const Node& node, const std::vector<Tensor>& outputs, uint64_t run_index);

}  // namespace horn::runtime
