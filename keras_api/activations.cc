#include "keras_api/activations.h"

#include <algorithm>

#include "keras_api/names.h"
#include "ops/ops.h"

namespace horn::keras::activations {

const std::vector<std::string>& names() {
  static const std::vector<std::string> known = {"elu",  "exponential", "hard_sigmoid", "linear",
                                                 "relu", "selu",        "sigmoid",      "softmax",
                                                 "softplus", "softsign", "tanh"};
  return known;
}

void validate(const std::string& name) {
  if (!name.empty() && std::find(names().begin(), names().end(), name) == names().end())
    unknown_name("activation", name, names());
}

Output apply(const std::string& name, Output x) {
  validate(name);
  if (name.empty() || name == "linear") return x;
  if (name == "sigmoid") return ops::Sigmoid(x);
  if (name == "softplus") return ops::Softplus(x);
  if (name == "softsign") return ops::Softsign(x);
  if (name == "softmax") return ops::Softmax(x);
  if (name == "relu") return ops::Relu(x);
  if (name == "tanh") return ops::Tanh(x);
  if (name == "hard_sigmoid") return ops::HardSigmoid(x);
  if (name == "elu") return ops::Elu(x);
  if (name == "selu") return ops::Selu(x);
  return ops::Exp(x);  // exponential
}

}  // namespace horn::keras::activations
