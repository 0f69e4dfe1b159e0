// Optimizers with Keras's names, defaults and update rules (Keras 2.3; epsilon 1e-7).
// Each adds in-place update ops to the graph. Their state — slots and the iteration count —
// lives in variables, so a saved model resumes training exactly.
//
//   auto opt = optimizers::Adam({.learning_rate = 1e-3, .amsgrad = true});
//   auto opt = optimizers::Adam(1e-3, amsgrad = true);       // Keras's positional rate, keywords
//   auto opt = optimizers::SGD(lr = 0.01, momentum = 0.9);  // `lr`: Keras 2.0-2.2's name
//   auto opt = optimizers::SGD(schedules::ExponentialDecay(0.1, 1000, 0.96));  // a schedule
//   std::vector<Node*> step = opt.get_updates(loss, params);  // run these as targets
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <concepts>
#include <type_traits>
#include <string>
#include <vector>

#include "core/graph.h"
#include "keras_api/keywords.h"
#include "keras_api/learning_rate_schedules.h"

namespace horn::keras::optimizers {

// A learning rate: a number, or a schedule of the step count (learning_rate_schedules.h).
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // NOLINT: `.learning_rate = 0.01` converts
  template <typename S>
    requires std::derived_from<S, schedules::LearningRateSchedule>
  LearningRate(const S& schedule)  // NOLINT: `learning_rate = ExponentialDecay(...)` converts
      : LearningRate(std::shared_ptr<const schedules::LearningRateSchedule>(std::make_shared<S>(schedule))) {}
  LearningRate(std::shared_ptr<const schedules::LearningRateSchedule> schedule)  // NOLINT
      : value_(schedule->initial_learning_rate()), schedule_(std::move(schedule)) {}
  // The number, or the schedule's rate at step 0.
  double value() const { return value_; }
  const std::shared_ptr<const schedules::LearningRateSchedule>& schedule() const { return schedule_; }

 private:
  double value_;
  std::shared_ptr<const schedules::LearningRateSchedule> schedule_;
};

// Keras's other ways to make an optimizer: SGD(0.01) (the learning rate first, positional),
// SGD(0.01, momentum = 0.9) and SGD(lr = 0.01, momentum = 0.9) (keywords, keras_api/keywords.h),
// SGD(ExponentialDecay(...)) (a schedule, positional).
#define HORN_OPTIMIZER_CALL_FORMS(Class)                                                      \
  template <typename Rate, KeywordArgument... K>                                             \
    requires std::is_arithmetic_v<Rate> || std::derived_from<Rate, schedules::LearningRateSchedule> \
  explicit Class(const Rate& learning_rate, const K&... kw)                                  \
      : Class(with_learning_rate(with_keywords<Class##Options>(kw...), LearningRate(learning_rate))) {} \
  template <KeywordArgument... K>                                                            \
  explicit Class(const K&... kw) : Class(with_keywords<Class##Options>(kw...)) {}

template <typename Options>
Options with_learning_rate(Options options, LearningRate learning_rate) {
  options.learning_rate = std::move(learning_rate);
  return options;
}

// The rate an optimizer's options ask for: `lr` (Keras 2.0-2.2's name) wins when set.
template <typename Options>
LearningRate resolved_learning_rate(const Options& o) {
  return o.lr ? LearningRate(*o.lr) : o.learning_rate;
}

class Optimizer {
 public:
  // Throws for a negative learning rate or decay.
  Optimizer(const LearningRate& learning_rate, double decay);
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;  // Keras's class name: "Adam"
  // Hyperparameters by Keras's argument names, for saving.
  virtual std::map<std::string, double> config() const = 0;

  // Update ops for one step of gradient descent on `loss` over `params`.
  std::vector<Node*> get_updates(Output loss, const std::vector<Output>& params);
  // TensorFlow 1's optimizer.minimize(loss[, var_list]): get_updates over `var_list`, or when
  // it is empty over the graph's trainable variables (Graph::trainable_variables). Run the
  // returned ops as targets: session.run({{x, batch}}, {loss}, train_step).
  std::vector<Node*> minimize(Output loss, std::vector<Output> var_list = {});
  std::vector<Node*> apply_gradients(const std::vector<Output>& grads, const std::vector<Output>& params);
  // The optimizer's state: the iteration counter first, then slots in creation order.
  const std::vector<Output>& variables() const { return variables_; }
  Output iterations() const { return iterations_; }
  // The learning rate is a scalar variable of the graph (Keras's optimizer.lr), so it can
  // change between steps without rebuilding anything: Sequential::set_learning_rate, the
  // learning-rate callbacks. Its current value is what config() saves.
  // With a schedule there is no such variable (a null Output): the rate is computed from
  // iterations() in the graph, and set_learning_rate throws.
  Output learning_rate_variable() const { return learning_rate_variable_; }
  // The rate as set, or the schedule's rate at step 0; Sequential::learning_rate gives a
  // schedule's current rate.
  double learning_rate() const { return learning_rate_; }
  const std::shared_ptr<const schedules::LearningRateSchedule>& schedule() const { return schedule_; }
  void set_learning_rate(double lr);

 protected:
  // Per-step values shared by every parameter's update.
  struct Step {
    Output t;   // iterations + 1
    Output lr;  // the learning rate after `decay`
  };
  virtual Node* update(Output param, Output grad, const Step& step) = 0;
  // Hook for optimizers with per-step state of their own (Nadam's momentum schedule).
  virtual void before_updates(Graph&, DType, const Step&, std::vector<Node*>*) {}
  virtual void after_updates(std::vector<Node*>*) {}

  Output slot(Output param, const std::string& name, double initial = 0);
  Output scalar(double v) const;
  double learning_rate_;
  const double decay_;
  const std::shared_ptr<const schedules::LearningRateSchedule> schedule_;

 private:
  Graph* graph_ = nullptr;
  DType dtype_ = DType::kFloat32;
  Output iterations_, learning_rate_variable_;
  std::vector<Output> variables_;

 protected:
  std::vector<Output>& mutable_variables() { return variables_; }
  Graph& graph() const { return *graph_; }
};

struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double decay = 0.0;
  std::optional<double> lr;  // Keras 2.0-2.2's name for learning_rate; wins when set
};
class SGD : public Optimizer {
 public:
  explicit SGD(SGDOptions o = {});
  HORN_OPTIMIZER_CALL_FORMS(SGD)
  std::string name() const override { return "SGD"; }
  std::map<std::string, double> config() const override;

 protected:
  Node* update(Output p, Output g, const Step& s) override;

 private:
  SGDOptions o_;
};

struct RMSpropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9, epsilon = 1e-7, decay = 0.0;
  std::optional<double> lr;  // Keras 2.0-2.2's name for learning_rate; wins when set
};
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(RMSpropOptions o = {});
  HORN_OPTIMIZER_CALL_FORMS(RMSprop)
  std::string name() const override { return "RMSprop"; }
  std::map<std::string, double> config() const override;

 protected:
  Node* update(Output p, Output g, const Step& s) override;

 private:
  RMSpropOptions o_;
};

struct AdagradOptions {
  LearningRate learning_rate = 0.01;
  double epsilon = 1e-7, decay = 0.0;
  std::optional<double> lr;  // Keras 2.0-2.2's name for learning_rate; wins when set
};
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(AdagradOptions o = {});
  HORN_OPTIMIZER_CALL_FORMS(Adagrad)
  std::string name() const override { return "Adagrad"; }
  std::map<std::string, double> config() const override;

 protected:
  Node* update(Output p, Output g, const Step& s) override;

 private:
  AdagradOptions o_;
};

struct AdadeltaOptions {
  LearningRate learning_rate = 1.0;
  double rho = 0.95, epsilon = 1e-7, decay = 0.0;
  std::optional<double> lr;  // Keras 2.0-2.2's name for learning_rate; wins when set
};
class Adadelta : public Optimizer {
 public:
  explicit Adadelta(AdadeltaOptions o = {});
  HORN_OPTIMIZER_CALL_FORMS(Adadelta)
  std::string name() const override { return "Adadelta"; }
  std::map<std::string, double> config() const override;

 protected:
  Node* update(Output p, Output g, const Step& s) override;

 private:
  AdadeltaOptions o_;
};

struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, decay = 0.0;
  bool amsgrad = false;
  std::optional<double> lr;  // Keras 2.0-2.2's name for learning_rate; wins when set
};
class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions o = {});
  HORN_OPTIMIZER_CALL_FORMS(Adam)
  std::string name() const override { return "Adam"; }
  std::map<std::string, double> config() const override;

 protected:
  Node* update(Output p, Output g, const Step& s) override;

 private:
  AdamOptions o_;
};

struct AdamaxOptions {
  LearningRate learning_rate = 0.002;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, decay = 0.0;
  std::optional<double> lr;  // Keras 2.0-2.2's name for learning_rate; wins when set
};
class Adamax : public Optimizer {
 public:
  explicit Adamax(AdamaxOptions o = {});
  HORN_OPTIMIZER_CALL_FORMS(Adamax)
  std::string name() const override { return "Adamax"; }
  std::map<std::string, double> config() const override;

 protected:
  Node* update(Output p, Output g, const Step& s) override;

 private:
  AdamaxOptions o_;
};

struct NadamOptions {
  LearningRate learning_rate = 0.002;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, schedule_decay = 0.004;
  std::optional<double> lr;  // Keras 2.0-2.2's name for learning_rate; wins when set
};
class Nadam : public Optimizer {
 public:
  explicit Nadam(NadamOptions o = {});
  HORN_OPTIMIZER_CALL_FORMS(Nadam)
  std::string name() const override { return "Nadam"; }
  std::map<std::string, double> config() const override;

 protected:
  Node* update(Output p, Output g, const Step& s) override;
  void before_updates(Graph& g, DType dtype, const Step& s, std::vector<Node*>* targets) override;
  void after_updates(std::vector<Node*>* targets) override;

 private:
  NadamOptions o_;
  Output m_schedule_, m_schedule_new_, m_schedule_next_, cache_t_, cache_t1_;
};

// By Keras name, case-insensitive ("adam", "SGD", ...), with defaults.
std::shared_ptr<Optimizer> get(const std::string& name);
// From a saved name and config; `schedule`, when given, is the learning rate.
std::shared_ptr<Optimizer> from_config(const std::string& name, const std::map<std::string, double>& config,
                                       std::shared_ptr<const schedules::LearningRateSchedule> schedule = nullptr);
const std::vector<std::string>& names();

}  // namespace horn::keras::optimizers
