// Keras's learning-rate schedules (keras.optimizers.schedules): a rate that is a function of
// the optimizer's step count, computed in the graph from the iteration variable at every
// step, so it changes without recompiling or feeding anything.
//
//   auto opt = optimizers::SGD(optimizers::schedules::ExponentialDecay(0.1, 1000, 0.96));
//   auto opt = optimizers::Adam(learning_rate = PiecewiseConstantDecay({1000, 2000}, {1e-3, 5e-4, 1e-4}));
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "keras_api/keywords.h"

namespace horn::keras::optimizers::schedules {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual std::string name() const = 0;  // Keras's class name
  // The rate at `step` (the number of updates already applied, as Keras's
  // optimizer.iterations): computed in double, for logs and callbacks.
  virtual double operator()(double step) const = 0;
  // The same in the graph, in step's dtype, as Keras computes it.
  virtual Output operator()(Output step) const = 0;
  double initial_learning_rate() const { return (*this)(0.0); }
  // Keras's serialized form, {"class_name": ..., "config": {...}}, as JSON text.
  virtual std::string to_json() const = 0;
};

// initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored when
// `staircase`.
struct ExponentialDecayOptions {
  double initial_learning_rate = 0, decay_steps = 0, decay_rate = 0;
  bool staircase = false;
};
class ExponentialDecay : public LearningRateSchedule {
 public:
  explicit ExponentialDecay(ExponentialDecayOptions o);
  ExponentialDecay(double initial_learning_rate, double decay_steps, double decay_rate, bool staircase = false)
      : ExponentialDecay(ExponentialDecayOptions{initial_learning_rate, decay_steps, decay_rate, staircase}) {}
  template <KeywordArgument... K>
  explicit ExponentialDecay(const K&... kw) : ExponentialDecay(with_keywords<ExponentialDecayOptions>(kw...)) {}
  template <KeywordArgument... K>
  explicit ExponentialDecay(double initial_learning_rate, const K&... kw)
      : ExponentialDecay(with_initial(with_keywords<ExponentialDecayOptions>(kw...), initial_learning_rate)) {}
  std::string name() const override { return "ExponentialDecay"; }
  double operator()(double step) const override;
  Output operator()(Output step) const override;
  std::string to_json() const override;

 private:
  static ExponentialDecayOptions with_initial(ExponentialDecayOptions o, double initial) {
    o.initial_learning_rate = initial;
    return o;
  }
  ExponentialDecayOptions o_;
};

// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
// values.back() after the last boundary.
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<double> values);
  std::string name() const override { return "PiecewiseConstantDecay"; }
  double operator()(double step) const override;
  Output operator()(Output step) const override;
  std::string to_json() const override;

 private:
  std::vector<double> boundaries_, values_;
};

// From Keras's serialized form (Keras 2 {"class_name", "config"}; Keras 3 adds "module" and
// "registered_name"). Throws naming the class for a schedule Horn does not have.
std::shared_ptr<const LearningRateSchedule> from_json(const std::string& json_text);

}  // namespace horn::keras::optimizers::schedules
