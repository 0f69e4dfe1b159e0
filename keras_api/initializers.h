// Weight initializers by Keras name, with Keras's scales. Fans follow Keras for a Dense
// kernel [fan_in, fan_out]: glorot uses both, he and lecun use fan_in.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace horn::keras::initializers {

const std::vector<std::string>& names();
void validate(const std::string& name);
Tensor make(const std::string& name, const Shape& shape, uint64_t seed, DType dtype = DType::kFloat32);

}  // namespace horn::keras::initializers
