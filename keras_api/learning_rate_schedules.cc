#include "keras_api/learning_rate_schedules.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "ops/ops.h"

namespace horn::keras::optimizers::schedules {

using json = nlohmann::json;

namespace {
void check_rate(const char* schedule, const char* what, double v) {
  if (!(v >= 0) || !std::isfinite(v)) fail(schedule, ": ", what, " must be finite and >= 0, got ", v);
}
}  // namespace

// ---- ExponentialDecay ----

ExponentialDecay::ExponentialDecay(ExponentialDecayOptions o) : o_(o) {
  check_rate("ExponentialDecay", "initial_learning_rate", o.initial_learning_rate);
  if (!(o.decay_steps > 0) || !std::isfinite(o.decay_steps))
    fail("ExponentialDecay: decay_steps must be finite and > 0, got ", o.decay_steps);
  if (!(o.decay_rate > 0) || !std::isfinite(o.decay_rate))
    fail("ExponentialDecay: decay_rate must be finite and > 0, got ", o.decay_rate);
}

double ExponentialDecay::operator()(double step) const {
  double p = step / o_.decay_steps;
  if (o_.staircase) p = std::floor(p);
  return o_.initial_learning_rate * std::pow(o_.decay_rate, p);
}

Output ExponentialDecay::operator()(Output step) const {
  Graph& g = step.graph();
  Output p = step / ops::Scalar(g, o_.decay_steps, step.dtype());
  // The step count is never negative: truncation is the floor.
  if (o_.staircase) p = ops::Cast(ops::Cast(p, DType::kInt32), step.dtype());
  return ops::Scalar(g, o_.initial_learning_rate, step.dtype()) *
         ops::Pow(ops::Scalar(g, o_.decay_rate, step.dtype()), p);
}

std::string ExponentialDecay::to_json() const {
  return json{{"class_name", name()},
              {"config",
               {{"initial_learning_rate", o_.initial_learning_rate},
                {"decay_steps", o_.decay_steps},
                {"decay_rate", o_.decay_rate},
                {"staircase", o_.staircase},
                {"name", nullptr}}}}
      .dump();
}

// ---- PiecewiseConstantDecay ----

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  if (values_.size() != boundaries_.size() + 1)
    fail("PiecewiseConstantDecay: needs one more value than boundaries, got ", boundaries_.size(),
         " boundaries and ", values_.size(), " values");
  for (size_t i = 0; i < boundaries_.size(); ++i) {
    if (!std::isfinite(boundaries_[i])) fail("PiecewiseConstantDecay: boundary ", i, " is ", boundaries_[i]);
    if (i > 0 && !(boundaries_[i] > boundaries_[i - 1]))
      fail("PiecewiseConstantDecay: boundaries must increase, got ", boundaries_[i - 1], " then ", boundaries_[i]);
  }
  for (double v : values_) check_rate("PiecewiseConstantDecay", "every value", v);
}

double PiecewiseConstantDecay::operator()(double step) const {
  for (size_t i = 0; i < boundaries_.size(); ++i)
    if (step <= boundaries_[i]) return values_[i];
  return values_.back();
}

Output PiecewiseConstantDecay::operator()(Output step) const {
  Graph& g = step.graph();
  // From the last interval inwards, so each value is selected whole, never summed from others.
  Output rate = ops::Scalar(g, values_.back(), step.dtype());
  for (size_t i = boundaries_.size(); i-- > 0;)
    rate = ops::Select(ops::LessEqual(step, ops::Scalar(g, boundaries_[i], step.dtype())),
                       ops::Scalar(g, values_[i], step.dtype()), rate);
  return rate;
}

std::string PiecewiseConstantDecay::to_json() const {
  return json{{"class_name", name()}, {"config", {{"boundaries", boundaries_}, {"values", values_}, {"name", nullptr}}}}
      .dump();
}

// ---- from Keras's form ----

std::shared_ptr<const LearningRateSchedule> from_json(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string() || !j.contains("config") ||
      !j["config"].is_object())
    fail("learning-rate schedule: expected {\"class_name\": ..., \"config\": {...}}, got ", text.substr(0, 200));
  const std::string cls = j["class_name"];
  const json& c = j["config"];
  auto number = [&](const char* key) -> double {
    if (!c.contains(key) || !c[key].is_number()) fail(cls, ": config needs a number '", key, "'");
    return c[key].get<double>();
  };
  auto numbers = [&](const char* key) {
    std::vector<double> out;
    if (!c.contains(key) || !c[key].is_array()) fail(cls, ": config needs a list of numbers '", key, "'");
    for (const json& v : c[key]) {
      if (!v.is_number()) fail(cls, ": '", key, "' holds ", v.dump(), ", not a number");
      out.push_back(v.get<double>());
    }
    return out;
  };
  if (cls == "ExponentialDecay") {
    const bool staircase = c.contains("staircase") && c["staircase"].is_boolean() && c["staircase"].get<bool>();
    return std::make_shared<ExponentialDecay>(number("initial_learning_rate"), number("decay_steps"),
                                              number("decay_rate"), staircase);
  }
  if (cls == "PiecewiseConstantDecay")
    return std::make_shared<PiecewiseConstantDecay>(numbers("boundaries"), numbers("values"));
  fail("the learning-rate schedule ", cls, " is not supported (Horn has ExponentialDecay and PiecewiseConstantDecay)");
}

}  // namespace horn::keras::optimizers::schedules
