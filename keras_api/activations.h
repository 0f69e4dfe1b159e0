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

// Keras's activation functions as values: `activation = activations::relu` (Keras:
// keras.activations.relu) names the activation wherever its name is taken, and
// `activations::relu(x)` applies it to a graph value.
struct ActivationFunction {
  const char* name;
  Output operator()(Output x) const { return apply(name, x); }
  operator std::string() const { return name; }  // NOLINT: where a name is taken
};
inline constexpr ActivationFunction sigmoid{"sigmoid"}, softplus{"softplus"}, softsign{"softsign"},
    softmax{"softmax"}, relu{"relu"}, tanh{"tanh"}, hard_sigmoid{"hard_sigmoid"}, linear{"linear"}, elu{"elu"},
    selu{"selu"}, exponential{"exponential"};

}  // namespace horn::keras::activations
