#include "keras_api/optimizers.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "autodiff/gradients.h"
#include "keras_api/names.h"
#include "ops/ops.h"

namespace horn::keras::optimizers {

// ---- base ----

Optimizer::Optimizer(const LearningRate& learning_rate, double decay)
    : learning_rate_(learning_rate.value()), decay_(decay), schedule_(learning_rate.schedule()) {
  if (!(learning_rate_ >= 0)) fail("optimizer: learning_rate must be >= 0, got ", learning_rate_);
  if (!(decay >= 0)) fail("optimizer: decay must be >= 0, got ", decay);
}

void Optimizer::set_learning_rate(double lr) {
  if (schedule_)
    fail(name(), ": the learning rate is the schedule ", schedule_->name(),
         "; it cannot be set (LearningRateScheduler and ReduceLROnPlateau need a number)");
  if (!(lr >= 0) || !std::isfinite(lr)) fail(name(), ": learning_rate must be finite and >= 0, got ", lr);
  learning_rate_ = lr;
}

Output Optimizer::scalar(double v) const { return ops::Scalar(*graph_, v, dtype_); }

Output Optimizer::slot(Output param, const std::string& name, double initial) {
  Output v = ops::Variable(*graph_, Tensor::fill(param.dtype(), param.shape(), initial), param.node->name + "/" + name,
                           /*trainable=*/false);
  variables_.push_back(v);
  return v;
}

std::vector<Node*> Optimizer::get_updates(Output loss, const std::vector<Output>& params) {
  return apply_gradients(autodiff::gradients({loss}, params, {}, {autodiff::Unconnected::kZero}), params);
}

std::vector<Node*> Optimizer::minimize(Output loss, std::vector<Output> var_list) {
  if (var_list.empty()) {
    for (Node* v : loss.graph().trainable_variables()) var_list.push_back(v->output());
    if (var_list.empty())
      fail(name(), ".minimize: the graph of '", loss.name(), "' has no trainable variables; pass var_list");
  }
  return get_updates(loss, var_list);
}

std::vector<Node*> Optimizer::apply_gradients(const std::vector<Output>& grads, const std::vector<Output>& params) {
  if (params.empty()) fail(name(), ": no parameters to optimise");
  if (grads.size() != params.size()) fail(name(), ": ", grads.size(), " gradients for ", params.size(), " parameters");
  if (graph_) fail(name(), ": this optimizer already built its updates; create one optimizer per model");
  graph_ = &params[0].graph();
  dtype_ = params[0].dtype();
  for (const Output& p : params)
    if (p.node->op_name() != "Variable") fail(name(), ": parameter '", p.name(), "' is not a Variable");
  Graph::NameScope scope(*graph_, name());
  iterations_ = ops::Variable(*graph_, Tensor::zeros(dtype_, {}), "iterations", /*trainable=*/false);
  variables_.insert(variables_.begin(), iterations_);
  Step step{iterations_ + 1.0, {}};
  if (schedule_) {
    step.lr = (*schedule_)(iterations_);
  } else {
    learning_rate_variable_ =
        ops::Variable(*graph_, Tensor::fill(dtype_, {}, learning_rate_), "learning_rate", /*trainable=*/false);
    step.lr = learning_rate_variable_;
  }
  if (decay_ > 0) step.lr = step.lr / (1.0 + decay_ * iterations_);
  std::vector<Node*> targets;
  before_updates(*graph_, dtype_, step, &targets);
  for (size_t i = 0; i < params.size(); ++i) {
    Graph::NameScope param_scope(*graph_, params[i].node->name);
    targets.push_back(update(params[i], grads[i], step));
  }
  after_updates(&targets);
  targets.push_back(ops::AssignAdd(iterations_, scalar(1)).node);
  return targets;
}

// ---- SGD ----

SGD::SGD(SGDOptions o) : Optimizer(resolved_learning_rate(o), o.decay), o_(o) {
  if (!(o.momentum >= 0)) fail("SGD: momentum must be >= 0, got ", o.momentum);
}
std::map<std::string, double> SGD::config() const {
  return {{"learning_rate", learning_rate_}, {"momentum", o_.momentum}, {"nesterov", o_.nesterov}, {"decay", o_.decay}};
}
Node* SGD::update(Output p, Output g, const Step& s) {
  if (o_.momentum == 0) return ops::AssignSub(p, s.lr * g).node;
  Output m = slot(p, "momentum");
  Output v = ops::Assign(m, o_.momentum * m - s.lr * g);
  Output delta = o_.nesterov ? o_.momentum * v - s.lr * g : v;
  return ops::AssignAdd(p, delta).node;
}

// ---- RMSprop ----

RMSprop::RMSprop(RMSpropOptions o) : Optimizer(resolved_learning_rate(o), o.decay), o_(o) {}
std::map<std::string, double> RMSprop::config() const {
  return {{"learning_rate", learning_rate_}, {"rho", o_.rho}, {"epsilon", o_.epsilon}, {"decay", o_.decay}};
}
Node* RMSprop::update(Output p, Output g, const Step& s) {
  Output a = slot(p, "accumulator");
  Output a_t = ops::Assign(a, o_.rho * a + (1 - o_.rho) * ops::Square(g));
  return ops::AssignSub(p, s.lr * g / (ops::Sqrt(a_t) + o_.epsilon)).node;
}

// ---- Adagrad ----

Adagrad::Adagrad(AdagradOptions o) : Optimizer(resolved_learning_rate(o), o.decay), o_(o) {}
std::map<std::string, double> Adagrad::config() const {
  return {{"learning_rate", learning_rate_}, {"epsilon", o_.epsilon}, {"decay", o_.decay}};
}
Node* Adagrad::update(Output p, Output g, const Step& s) {
  Output a = slot(p, "accumulator");
  Output a_t = ops::AssignAdd(a, ops::Square(g));
  return ops::AssignSub(p, s.lr * g / (ops::Sqrt(a_t) + o_.epsilon)).node;
}

// ---- Adadelta ----

Adadelta::Adadelta(AdadeltaOptions o) : Optimizer(resolved_learning_rate(o), o.decay), o_(o) {}
std::map<std::string, double> Adadelta::config() const {
  return {{"learning_rate", learning_rate_}, {"rho", o_.rho}, {"epsilon", o_.epsilon}, {"decay", o_.decay}};
}
Node* Adadelta::update(Output p, Output g, const Step& s) {
  Output a = slot(p, "accumulator"), d = slot(p, "delta_accumulator");
  Output a_t = ops::Assign(a, o_.rho * a + (1 - o_.rho) * ops::Square(g));
  Output step = g * ops::Sqrt(d + o_.epsilon) / ops::Sqrt(a_t + o_.epsilon);
  Output p_t = ops::AssignSub(p, s.lr * step);
  Output d_t = ops::Assign(d, o_.rho * d + (1 - o_.rho) * ops::Square(step));
  // d is read (for `step`) before it is written: the session orders writes after reads.
  p.graph().add_control_input(p_t.node, d_t.node);
  return p_t.node;
}

// ---- Adam ----

Adam::Adam(AdamOptions o) : Optimizer(resolved_learning_rate(o), o.decay), o_(o) {}
std::map<std::string, double> Adam::config() const {
  return {{"learning_rate", learning_rate_}, {"beta_1", o_.beta_1}, {"beta_2", o_.beta_2},
          {"epsilon", o_.epsilon}, {"decay", o_.decay}, {"amsgrad", o_.amsgrad}};
}
Node* Adam::update(Output p, Output g, const Step& s) {
  Output lr_t = s.lr * ops::Sqrt(1.0 - ops::Pow(scalar(o_.beta_2), s.t)) / (1.0 - ops::Pow(scalar(o_.beta_1), s.t));
  Output m = slot(p, "m"), v = slot(p, "v");
  Output m_t = ops::Assign(m, o_.beta_1 * m + (1 - o_.beta_1) * g);
  Output v_t = ops::Assign(v, o_.beta_2 * v + (1 - o_.beta_2) * ops::Square(g));
  if (o_.amsgrad) {
    Output vhat = slot(p, "vhat");
    v_t = ops::Assign(vhat, ops::Maximum(vhat, v_t));
  }
  return ops::AssignSub(p, lr_t * m_t / (ops::Sqrt(v_t) + o_.epsilon)).node;
}

// ---- Adamax ----

Adamax::Adamax(AdamaxOptions o) : Optimizer(resolved_learning_rate(o), o.decay), o_(o) {}
std::map<std::string, double> Adamax::config() const {
  return {{"learning_rate", learning_rate_}, {"beta_1", o_.beta_1}, {"beta_2", o_.beta_2},
          {"epsilon", o_.epsilon}, {"decay", o_.decay}};
}
Node* Adamax::update(Output p, Output g, const Step& s) {
  Output lr_t = s.lr / (1.0 - ops::Pow(scalar(o_.beta_1), s.t));
  Output m = slot(p, "m"), u = slot(p, "u");
  Output m_t = ops::Assign(m, o_.beta_1 * m + (1 - o_.beta_1) * g);
  Output u_t = ops::Assign(u, ops::Maximum(o_.beta_2 * u, ops::Abs(g)));
  return ops::AssignSub(p, lr_t * m_t / (u_t + o_.epsilon)).node;
}

// ---- Nadam ----

Nadam::Nadam(NadamOptions o) : Optimizer(resolved_learning_rate(o), 0.0), o_(o) {}
std::map<std::string, double> Nadam::config() const {
  return {{"learning_rate", learning_rate_}, {"beta_1", o_.beta_1}, {"beta_2", o_.beta_2},
          {"epsilon", o_.epsilon}, {"schedule_decay", o_.schedule_decay}};
}
void Nadam::before_updates(Graph& g, DType dtype, const Step& s, std::vector<Node*>*) {
  m_schedule_ = ops::Variable(g, Tensor::ones(dtype, {}), "m_schedule", /*trainable=*/false);
  mutable_variables().push_back(m_schedule_);
  // Momentum schedule of Dozat (2016), as Keras computes it.
  cache_t_ = o_.beta_1 * (1.0 - 0.5 * ops::Pow(scalar(0.96), s.t * o_.schedule_decay));
  cache_t1_ = o_.beta_1 * (1.0 - 0.5 * ops::Pow(scalar(0.96), (s.t + 1.0) * o_.schedule_decay));
  m_schedule_new_ = m_schedule_ * cache_t_;
  m_schedule_next_ = m_schedule_new_ * cache_t1_;
}
void Nadam::after_updates(std::vector<Node*>* targets) {
  targets->push_back(ops::Assign(m_schedule_, m_schedule_new_).node);
}
Node* Nadam::update(Output p, Output g, const Step& s) {
  Output m = slot(p, "m"), v = slot(p, "v");
  Output g_prime = g / (1.0 - m_schedule_new_);
  Output m_t = ops::Assign(m, o_.beta_1 * m + (1 - o_.beta_1) * g);
  Output m_prime = m_t / (1.0 - m_schedule_next_);
  Output v_t = ops::Assign(v, o_.beta_2 * v + (1 - o_.beta_2) * ops::Square(g));
  Output v_prime = v_t / (1.0 - ops::Pow(scalar(o_.beta_2), s.t));
  Output m_bar = (1.0 - cache_t_) * g_prime + cache_t1_ * m_prime;
  return ops::AssignSub(p, s.lr * m_bar / (ops::Sqrt(v_prime) + o_.epsilon)).node;
}

// ---- by name ----

const std::vector<std::string>& names() {
  static const std::vector<std::string> known = {"SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"};
  return known;
}

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
double value(const std::map<std::string, double>& c, const std::string& key, double fallback) {
  auto it = c.find(key);
  return it == c.end() ? fallback : it->second;
}
LearningRate rate(const std::map<std::string, double>& c, const LearningRate& fallback,
                  const std::shared_ptr<const schedules::LearningRateSchedule>& schedule) {
  if (schedule) return schedule;
  return value(c, "learning_rate", fallback.value());
}
}  // namespace

std::shared_ptr<Optimizer> from_config(const std::string& name, const std::map<std::string, double>& c,
                                       std::shared_ptr<const schedules::LearningRateSchedule> schedule) {
  const std::string n = lower(name);
  if (n == "sgd") {
    SGDOptions d;
    return std::make_shared<SGD>(SGDOptions{rate(c, d.learning_rate, schedule), value(c, "momentum", d.momentum),
                                            value(c, "nesterov", d.nesterov) != 0, value(c, "decay", d.decay)});
  }
  if (n == "rmsprop") {
    RMSpropOptions d;
    return std::make_shared<RMSprop>(RMSpropOptions{rate(c, d.learning_rate, schedule), value(c, "rho", d.rho),
                                                    value(c, "epsilon", d.epsilon), value(c, "decay", d.decay)});
  }
  if (n == "adagrad") {
    AdagradOptions d;
    return std::make_shared<Adagrad>(AdagradOptions{rate(c, d.learning_rate, schedule),
                                                    value(c, "epsilon", d.epsilon), value(c, "decay", d.decay)});
  }
  if (n == "adadelta") {
    AdadeltaOptions d;
    return std::make_shared<Adadelta>(AdadeltaOptions{rate(c, d.learning_rate, schedule), value(c, "rho", d.rho),
                                                      value(c, "epsilon", d.epsilon), value(c, "decay", d.decay)});
  }
  if (n == "adam") {
    AdamOptions d;
    return std::make_shared<Adam>(AdamOptions{rate(c, d.learning_rate, schedule), value(c, "beta_1", d.beta_1),
                                              value(c, "beta_2", d.beta_2), value(c, "epsilon", d.epsilon),
                                              value(c, "decay", d.decay), value(c, "amsgrad", d.amsgrad) != 0});
  }
  if (n == "adamax") {
    AdamaxOptions d;
    return std::make_shared<Adamax>(AdamaxOptions{rate(c, d.learning_rate, schedule), value(c, "beta_1", d.beta_1),
                                                  value(c, "beta_2", d.beta_2), value(c, "epsilon", d.epsilon),
                                                  value(c, "decay", d.decay)});
  }
  if (n == "nadam") {
    NadamOptions d;
    return std::make_shared<Nadam>(NadamOptions{rate(c, d.learning_rate, schedule), value(c, "beta_1", d.beta_1),
                                                value(c, "beta_2", d.beta_2), value(c, "epsilon", d.epsilon),
                                                value(c, "schedule_decay", d.schedule_decay)});
  }
  unknown_name("optimizer", name, names());
}

std::shared_ptr<Optimizer> get(const std::string& name) { return from_config(name, {}); }

}  // namespace horn::keras::optimizers
