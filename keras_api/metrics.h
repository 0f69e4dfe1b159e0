// Metrics by Keras name. "accuracy" (or "acc") picks categorical, binary or sparse accuracy
// from the loss, as Keras does. Each returns a per-sample value [batch]; the model
// reports its mean over all samples.
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"
#include "keras_api/keywords.h"

namespace horn::keras {

// Keras's `metrics`, both ways it is written: `metrics = {"accuracy"}` (the keyword argument,
// keras_api/keywords.h) and `metrics::CategoricalAccuracy()` (a class). A struct and a
// variable of one name in one scope allow both: `metrics::` looks up only types, `metrics =`
// finds the variable.
struct metrics {
  // Keras's class-style metrics, with their default arguments. Each stands for its Keras
  // name, which is also the name its logs get.
#define HORN_KERAS_METRIC_CLASS(Class, keras_name)                                        \
  struct Class {                                                                          \
    operator std::string() const { return keras_name; } /* NOLINT: implicit, a name */    \
  }
  HORN_KERAS_METRIC_CLASS(CategoricalAccuracy, "categorical_accuracy");
  HORN_KERAS_METRIC_CLASS(SparseCategoricalAccuracy, "sparse_categorical_accuracy");
  HORN_KERAS_METRIC_CLASS(BinaryAccuracy, "binary_accuracy");
  HORN_KERAS_METRIC_CLASS(TopKCategoricalAccuracy, "top_k_categorical_accuracy");
  HORN_KERAS_METRIC_CLASS(MeanSquaredError, "mean_squared_error");
  HORN_KERAS_METRIC_CLASS(MeanAbsoluteError, "mean_absolute_error");
#undef HORN_KERAS_METRIC_CLASS

  static const std::vector<std::string>& names();
  static void validate(const std::string& name);
  static Output compute(const std::string& name, const std::string& loss_name, Output y_true, Output y_pred);
};
inline constexpr kw::metrics_keyword metrics{};

namespace kw {
using horn::keras::metrics;
}  // namespace kw

}  // namespace horn::keras
