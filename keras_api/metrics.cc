#include "keras_api/metrics.h"

#include <algorithm>

#include "keras_api/losses.h"
#include "keras_api/names.h"
#include "ops/ops.h"

namespace horn::keras {
namespace {

Output as_float(Output b, Output like) { return ops::Cast(b, like.dtype()); }

Output categorical_accuracy(Output t, Output p) {
  return as_float(ops::Equal(ops::ArgMax(t), ops::ArgMax(p)), p);
}

Output sparse_categorical_accuracy(Output t, Output p) {
  Output labels = ops::Cast(t.shape().rank() == p.shape().rank() ? ops::Reshape(t, {-1}) : t, DType::kInt32);
  return as_float(ops::Equal(labels, ops::ArgMax(p)), p);
}

Output binary_accuracy(Output t, Output p) {
  Output predicted = as_float(ops::Greater(p, ops::Scalar(p.graph(), 0.5, p.dtype())), p);
  return ops::Mean(as_float(ops::Equal(t, predicted), p), {-1});
}

// The true class is in the top k when fewer than k classes score strictly higher.
Output top_k_categorical_accuracy(Output t, Output p, int k = 5) {
  Output true_score = ops::BroadcastLike(ops::Sum(p * t, {-1}, true), p);
  Output higher = ops::Sum(as_float(ops::Greater(p, true_score), p), {-1});
  return as_float(ops::Less(higher, ops::Scalar(p.graph(), k, p.dtype())), p);
}

}  // namespace

const std::vector<std::string>& metrics::names() {
  static const std::vector<std::string> known = {
      "acc", "accuracy", "binary_accuracy", "categorical_accuracy", "mae", "mean_absolute_error",
      "mean_squared_error", "mse", "sparse_categorical_accuracy", "top_k_categorical_accuracy"};
  return known;
}

void metrics::validate(const std::string& name) {
  if (std::find(names().begin(), names().end(), name) == names().end()) unknown_name("metric", name, names());
}

Output metrics::compute(const std::string& name, const std::string& loss_name, Output t, Output p) {
  validate(name);
  if (name == "accuracy" || name == "acc") {
    if (loss_name == "binary_crossentropy") return binary_accuracy(t, p);
    if (losses::is_sparse(loss_name)) return sparse_categorical_accuracy(t, p);
    return categorical_accuracy(t, p);
  }
  if (name == "categorical_accuracy") return categorical_accuracy(t, p);
  if (name == "sparse_categorical_accuracy") return sparse_categorical_accuracy(t, p);
  if (name == "binary_accuracy") return binary_accuracy(t, p);
  if (name == "top_k_categorical_accuracy") return top_k_categorical_accuracy(t, p);
  if (name == "mse" || name == "mean_squared_error") return ops::Mean(ops::Square(p - t), {-1});
  return ops::Mean(ops::Abs(p - t), {-1});  // mae
}

}  // namespace horn::keras
