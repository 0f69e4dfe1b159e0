// Activations by Keras name: sigmoid, softplus, softsign, softmax, relu, tanh, hard_sigmoid,
// linear, elu, selu, exponential.
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"

namespace horn::keras::activations {

const std::vector<std::string>& names();
// Throws an Error listing the known names when `name` is unknown.
void validate(const std::string& name);
// Applies the activation; "" and "linear" return x unchanged.
Output apply(const std::string& name, Output x);

}  // namespace horn::keras::activations
