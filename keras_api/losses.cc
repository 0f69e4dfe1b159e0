#include "keras_api/losses.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "keras_api/names.h"
#include "ops/ops.h"

namespace horn::keras::losses {
namespace {

const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> a = {
      {"mse", "mean_squared_error"},  {"mae", "mean_absolute_error"},
      {"mape", "mean_absolute_percentage_error"}, {"msle", "mean_squared_logarithmic_error"},
      {"kld", "kullback_leibler_divergence"},     {"cosine", "cosine_proximity"},
      // Keras's class names (losses.get("CategoricalCrossentropy") and the C++ classes of losses.h)
      {"BinaryCrossentropy", "binary_crossentropy"},
      {"CategoricalCrossentropy", "categorical_crossentropy"},
      {"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"},
      {"MeanSquaredError", "mean_squared_error"},
      {"MeanAbsoluteError", "mean_absolute_error"},
      {"MeanAbsolutePercentageError", "mean_absolute_percentage_error"},
      {"MeanSquaredLogarithmicError", "mean_squared_logarithmic_error"},
      {"Hinge", "hinge"},
      {"SquaredHinge", "squared_hinge"},
      {"CategoricalHinge", "categorical_hinge"},
      {"KLDivergence", "kullback_leibler_divergence"},
      {"Poisson", "poisson"},
      {"LogCosh", "logcosh"},
  };
  return a;
}

Output scalar(Output like, double v) { return ops::Scalar(like.graph(), v, like.dtype()); }
Output clip(Output x, double lo, double hi) { return ops::Clip(x, lo, hi); }
Output mean_last(Output x) { return ops::Mean(x, {-1}); }
Output sum_last(Output x) { return ops::Sum(x, {-1}); }
Output relu_of(Output x) { return ops::Maximum(x, scalar(x, 0)); }
Output l2_normalize(Output x) {
  return x / ops::Sqrt(ops::Maximum(ops::Sum(ops::Square(x), {-1}, true), scalar(x, 1e-12)));
}

Output categorical_crossentropy(Output t, Output p) {
  if (p.node->op_name() == "Softmax")
    return ops::SoftmaxCrossEntropyWithLogits({.labels = t, .logits = p.node->inputs[0]});
  Output normalized = p / ops::Sum(p, {-1}, true);
  return -sum_last(t * ops::Log(clip(normalized, kEpsilon, 1 - kEpsilon)));
}

Output binary_crossentropy(Output t, Output p) {
  if (p.node->op_name() == "Sigmoid") {
    Output z = p.node->inputs[0];
    return mean_last(ops::Softplus(z) - z * t);
  }
  Output q = clip(p, kEpsilon, 1 - kEpsilon);
  return mean_last(-(t * ops::Log(q) + (1.0 - t) * ops::Log(1.0 - q)));
}

Output sparse_to_one_hot(Output t, Output p) {
  Output labels = ops::Cast(t.shape().rank() == p.shape().rank() ? ops::Reshape(t, {-1}) : t, DType::kInt32);
  return ops::OneHot(labels, p.shape().dim(-1), 1, 0, p.dtype());
}

}  // namespace

Loss::Loss(const char* n) : Loss(std::string(n)) {}
Loss::Loss(std::string n) : name(canonical_name(n)) {}

const std::vector<std::string>& names() {
  static const std::vector<std::string> known = {
      "binary_crossentropy", "categorical_crossentropy", "categorical_hinge", "cosine_proximity",
      "hinge", "kullback_leibler_divergence", "logcosh", "mean_absolute_error",
      "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "poisson",
      "sparse_categorical_crossentropy", "squared_hinge", "cosine", "kld", "mae", "mape", "mse", "msle"};
  return known;
}

std::string canonical_name(const std::string& name) {
  if (auto it = aliases().find(name); it != aliases().end()) return it->second;
  if (std::find(names().begin(), names().end(), name) == names().end()) unknown_name("loss", name, names());
  return name;
}

bool is_sparse(const std::string& canonical) { return canonical == "sparse_categorical_crossentropy"; }

Output compute(const Loss& loss, Output t, Output p) {
  if (loss.fn) return loss.fn(t, p);
  const std::string& n = loss.name;
  if (n == "categorical_crossentropy") return categorical_crossentropy(t, p);
  if (n == "sparse_categorical_crossentropy") return categorical_crossentropy(sparse_to_one_hot(t, p), p);
  if (n == "binary_crossentropy") return binary_crossentropy(t, p);
  if (n == "mean_squared_error") return mean_last(ops::Square(p - t));
  if (n == "mean_absolute_error") return mean_last(ops::Abs(p - t));
  if (n == "mean_absolute_percentage_error")
    return 100.0 * mean_last(ops::Abs((t - p) / ops::Maximum(ops::Abs(t), scalar(t, kEpsilon))));
  if (n == "mean_squared_logarithmic_error") {
    auto log1 = [](Output x) { return ops::Log(ops::Maximum(x, scalar(x, kEpsilon)) + 1.0); };
    return mean_last(ops::Square(log1(p) - log1(t)));
  }
  if (n == "hinge") return mean_last(relu_of(1.0 - t * p));
  if (n == "squared_hinge") return mean_last(ops::Square(relu_of(1.0 - t * p)));
  if (n == "categorical_hinge") {
    Output pos = sum_last(t * p), neg = ops::Max((1.0 - t) * p, {-1});
    return relu_of(neg - pos + 1.0);
  }
  if (n == "logcosh") {
    Output x = p - t;
    return mean_last(x + ops::Softplus(-2.0 * x) - std::log(2.0));
  }
  if (n == "kullback_leibler_divergence") {
    Output tc = clip(t, kEpsilon, 1), pc = clip(p, kEpsilon, 1);
    return sum_last(tc * ops::Log(tc / pc));
  }
  if (n == "poisson") return mean_last(p - t * ops::Log(p + kEpsilon));
  if (n == "cosine_proximity") return -sum_last(l2_normalize(t) * l2_normalize(p));
  unknown_name("loss", n, names());
}

}  // namespace horn::keras::losses
