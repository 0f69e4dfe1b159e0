// Losses with Keras's names, formulas and epsilon (1e-7). Each returns the per-sample loss
// [batch]; the model averages it over the batch.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/graph.h"

namespace horn::keras::losses {

constexpr double kEpsilon = 1e-7;

using LossFn = std::function<Output(Output y_true, Output y_pred)>;

// A loss by name ("categorical_crossentropy", "mse", ...) or a custom function.
struct Loss {
  Loss() = default;
  Loss(const char* name);  // NOLINT: implicit, so `.loss = "mse"` reads as in Keras
  Loss(std::string name);  // NOLINT
  Loss(std::string name, LossFn fn) : name(std::move(name)), fn(std::move(fn)) {}

  std::string name;  // canonical name ("mse" becomes "mean_squared_error")
  LossFn fn;         // set for custom losses only
  bool empty() const { return name.empty(); }
};

// Keras's class-style losses, with their default arguments: `loss = losses::Hinge()`. Each is the
// loss of its class name, which canonical_name maps to Keras's function name ("hinge").
#define HORN_KERAS_LOSS_CLASS(Class) \
  struct Class : Loss {              \
    Class() : Loss(#Class) {}        \
  }
HORN_KERAS_LOSS_CLASS(BinaryCrossentropy);
HORN_KERAS_LOSS_CLASS(CategoricalCrossentropy);
HORN_KERAS_LOSS_CLASS(SparseCategoricalCrossentropy);
HORN_KERAS_LOSS_CLASS(MeanSquaredError);
HORN_KERAS_LOSS_CLASS(MeanAbsoluteError);
HORN_KERAS_LOSS_CLASS(MeanAbsolutePercentageError);
HORN_KERAS_LOSS_CLASS(MeanSquaredLogarithmicError);
HORN_KERAS_LOSS_CLASS(Hinge);
HORN_KERAS_LOSS_CLASS(SquaredHinge);
HORN_KERAS_LOSS_CLASS(CategoricalHinge);
HORN_KERAS_LOSS_CLASS(KLDivergence);
HORN_KERAS_LOSS_CLASS(Poisson);
HORN_KERAS_LOSS_CLASS(LogCosh);

const std::vector<std::string>& names();  // canonical names and short aliases
std::string canonical_name(const std::string& name);  // throws, listing known names
bool is_sparse(const std::string& canonical);

// Per-sample loss. When y_pred is the output of a Softmax (or Sigmoid) op and the loss is
// categorical (binary) cross-entropy, the stable from-logits form is used on its input.
Output compute(const Loss& loss, Output y_true, Output y_pred);

}  // namespace horn::keras::losses
