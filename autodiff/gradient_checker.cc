#include "autodiff/gradient_checker.h"

#include <algorithm>
#include <cmath>

#include "autodiff/gradients.h"
#include "ops/ops.h"

namespace horn::autodiff {

std::string GradientCheck::to_string() const {
  return str_cat("max error ", max_error, " (absolute ", max_abs_error, ") at x[", worst_x, "] element ",
                 worst_index, ": symbolic ", worst_symbolic, " vs numeric ", worst_numeric);
}

GradientCheck check_gradients(Output y, const std::vector<Output>& xs, const std::vector<Tensor>& x_values,
                              const GradientCheckOptions& options) {
  if (xs.size() != x_values.size()) fail("check_gradients: ", xs.size(), " xs but ", x_values.size(), " values");
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i].dtype() != DType::kFloat64 || x_values[i].dtype() != DType::kFloat64)
      fail("check_gradients: x[", i, "] '", xs[i].name(), "' must be float64 for a precise check");
  if (y.dtype() != DType::kFloat64) fail("check_gradients: y '", y.name(), "' must be float64");

  Graph& g = y.graph();
  Output weights;
  std::vector<Output> grad_ys;
  if (options.grad_y.defined()) {
    weights = ops::Const(g, options.grad_y, "check_gradients/grad_y");
    grad_ys = {weights};
  }
  const std::vector<Output> symbolic = gradients({y}, xs, grad_ys, {Unconnected::kZero});
  Output objective = weights.valid() ? ops::Sum(y * weights) : ops::Sum(y);

  Session session(g);
  session.initialize_variables();
  Session::Feeds feeds = options.feeds;
  for (size_t i = 0; i < xs.size(); ++i) feeds.push_back({xs[i], x_values[i].copy()});
  // Every evaluation replays the same random stream, so random ops (Dropout) are checked as
  // the fixed function one training step sees.
  const uint64_t stream = session.run_counter();
  const std::vector<Tensor> analytic = session.run(feeds, symbolic);

  GradientCheck result;
  for (size_t i = 0; i < xs.size(); ++i) {
    Tensor& x = feeds[options.feeds.size() + i].second;
    double* data = x.data<double>();
    for (int64_t j = 0; j < x.size(); ++j) {
      const double saved = data[j];
      data[j] = saved + options.delta;
      session.set_run_counter(stream);
      const double plus = session.run(feeds, objective).value_as_double(0);
      data[j] = saved - options.delta;
      session.set_run_counter(stream);
      const double minus = session.run(feeds, objective).value_as_double(0);
      data[j] = saved;
      const double numeric = (plus - minus) / (2 * options.delta);
      const double sym = analytic[i].value_as_double(j);
      const double abs_err = std::abs(sym - numeric);
      const double err = abs_err / std::max({1.0, std::abs(sym), std::abs(numeric)});
      result.max_abs_error = std::max(result.max_abs_error, abs_err);
      if (err > result.max_error || result.worst_x < 0 || std::isnan(err)) {
        result.max_error = std::isnan(err) ? INFINITY : err;
        result.worst_x = static_cast<int>(i);
        result.worst_index = j;
        result.worst_symbolic = sym;
        result.worst_numeric = numeric;
      }
    }
  }
  return result;
}

}  // namespace horn::autodiff
