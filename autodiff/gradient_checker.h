// Compares symbolic gradients with central finite differences, in float64.
//
//   Graph g;
//   Output x = ops::Placeholder(g, DType::kFloat64, {3, 4}, "x");
//   Output y = ops::Tanh(x);
//   GradientCheck r = autodiff::check_gradients(y, {x}, {Tensor::uniform(DType::kFloat64, {3, 4}, -1, 1, 7)});
//   EXPECT_LT(r.max_error, 1e-6) << r.to_string();
#pragma once
#include <string>
#include <vector>

#include "core/session.h"

namespace horn::autodiff {

struct GradientCheck {
  double max_error = 0;      // max over elements of |symbolic - numeric| / max(1, |symbolic|, |numeric|)
  double max_abs_error = 0;  // max |symbolic - numeric|
  int worst_x = -1;          // where max_error occurred
  int64_t worst_index = -1;  // flat index inside that x
  double worst_symbolic = 0, worst_numeric = 0;
  std::string to_string() const;
};

struct GradientCheckOptions {
  double delta = 1e-6;     // finite-difference step
  Tensor grad_y;           // weights of y's elements; default all ones
  Session::Feeds feeds;    // values for other placeholders the graph needs
};

// Checks d(sum(y * grad_y))/d(x) for each x (single-output nodes of dtype float64, fed with
// `x_values`) against central differences. Variables in the graph are initialised.
GradientCheck check_gradients(Output y, const std::vector<Output>& xs, const std::vector<Tensor>& x_values,
                              const GradientCheckOptions& options = {});

}  // namespace horn::autodiff
