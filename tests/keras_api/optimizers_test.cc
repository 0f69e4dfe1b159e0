// Each optimizer's first three updates against the update rule computed by hand here, in
// double precision, for default and non-default settings. The problem: loss =
// sum(c*w + w^2/2), so the gradient is c + w and changes every step.
#include <cmath>
#include <functional>

#include "keras_api/optimizers.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using namespace optimizers;

const std::vector<double> kW0 = {0.5, -1.0, 2.0};
const std::vector<double> kC = {1.0, -2.0, 0.5};

std::vector<std::vector<double>> horn_steps(Optimizer& opt, int steps) {
  Graph g;
  Output w = ops::Variable(g, Tensor(Shape{3}, kW0), "w");
  Output c = ops::Const(g, Tensor(Shape{3}, kC));
  Output loss = ops::Sum(c * w + 0.5 * ops::Square(w));
  std::vector<Node*> updates = opt.get_updates(loss, {w});
  Session s(g);
  s.initialize_variables();
  std::vector<std::vector<double>> out;
  for (int i = 0; i < steps; ++i) {
    s.run({}, {}, updates);
    out.push_back(testing::values(s.variable_value(w.node)));
  }
  return out;
}

// By hand: `step(w, g, t)` updates w in place for iteration t = 1, 2, 3.
std::vector<std::vector<double>> hand_steps(const std::function<void(std::vector<double>&, const std::vector<double>&, int)>& step,
                                            int steps) {
  std::vector<double> w = kW0;
  std::vector<std::vector<double>> out;
  for (int t = 1; t <= steps; ++t) {
    std::vector<double> g(3);
    for (int i = 0; i < 3; ++i) g[i] = kC[i] + w[i];
    step(w, g, t);
    out.push_back(w);
  }
  return out;
}

void expect_same(const std::vector<std::vector<double>>& horn, const std::vector<std::vector<double>>& hand) {
  ASSERT_EQ(horn.size(), hand.size());
  for (size_t s = 0; s < horn.size(); ++s)
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(horn[s][i], hand[s][i], 1e-12) << "step " << s + 1 << " element " << i;
}

TEST(Optimizers, SGD) {
  SGD plain;
  expect_same(horn_steps(plain, 3), hand_steps([](auto& w, auto& g, int) { for (int i = 0; i < 3; ++i) w[i] -= 0.01 * g[i]; }, 3));
  for (bool nesterov : {false, true}) {
    SGD opt({.learning_rate = 0.1, .momentum = 0.9, .nesterov = nesterov, .decay = 0.01});
    std::vector<double> v(3, 0);
    expect_same(horn_steps(opt, 3), hand_steps([&](auto& w, auto& g, int t) {
                  const double lr = 0.1 / (1 + 0.01 * (t - 1));
                  for (int i = 0; i < 3; ++i) {
                    v[i] = 0.9 * v[i] - lr * g[i];
                    w[i] += nesterov ? 0.9 * v[i] - lr * g[i] : v[i];
                  }
                }, 3));
  }
}

TEST(Optimizers, RMSprop) {
  for (auto [lr, rho] : {std::pair{0.001, 0.9}, std::pair{0.01, 0.5}}) {
    RMSprop opt({.learning_rate = lr, .rho = rho});
    std::vector<double> a(3, 0);
    expect_same(horn_steps(opt, 3), hand_steps([&](auto& w, auto& g, int) {
                  for (int i = 0; i < 3; ++i) {
                    a[i] = rho * a[i] + (1 - rho) * g[i] * g[i];
                    w[i] -= lr * g[i] / (std::sqrt(a[i]) + 1e-7);
                  }
                }, 3));
  }
}

TEST(Optimizers, Adagrad) {
  for (auto [lr, eps] : {std::pair{0.01, 1e-7}, std::pair{0.1, 1e-3}}) {
    Adagrad opt({.learning_rate = lr, .epsilon = eps});
    std::vector<double> a(3, 0);
    expect_same(horn_steps(opt, 3), hand_steps([&](auto& w, auto& g, int) {
                  for (int i = 0; i < 3; ++i) {
                    a[i] += g[i] * g[i];
                    w[i] -= lr * g[i] / (std::sqrt(a[i]) + eps);
                  }
                }, 3));
  }
}

TEST(Optimizers, Adadelta) {
  for (auto [lr, rho] : {std::pair{1.0, 0.95}, std::pair{0.5, 0.9}}) {
    Adadelta opt({.learning_rate = lr, .rho = rho});
    std::vector<double> a(3, 0), d(3, 0);
    expect_same(horn_steps(opt, 3), hand_steps([&](auto& w, auto& g, int) {
                  for (int i = 0; i < 3; ++i) {
                    a[i] = rho * a[i] + (1 - rho) * g[i] * g[i];
                    const double step = g[i] * std::sqrt(d[i] + 1e-7) / std::sqrt(a[i] + 1e-7);
                    w[i] -= lr * step;
                    d[i] = rho * d[i] + (1 - rho) * step * step;
                  }
                }, 3));
  }
}

TEST(Optimizers, Adam) {
  for (bool amsgrad : {false, true}) {
    const double lr = amsgrad ? 0.01 : 0.001, b1 = amsgrad ? 0.8 : 0.9, b2 = 0.999;
    Adam opt({.learning_rate = lr, .beta_1 = b1, .amsgrad = amsgrad});
    std::vector<double> m(3, 0), v(3, 0), vhat(3, 0);
    expect_same(horn_steps(opt, 3), hand_steps([&](auto& w, auto& g, int t) {
                  const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
                  for (int i = 0; i < 3; ++i) {
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    vhat[i] = std::max(vhat[i], v[i]);
                    w[i] -= lr_t * m[i] / (std::sqrt(amsgrad ? vhat[i] : v[i]) + 1e-7);
                  }
                }, 3));
  }
}

TEST(Optimizers, Adamax) {
  for (auto [lr, b1] : {std::pair{0.002, 0.9}, std::pair{0.01, 0.8}}) {
    Adamax opt({.learning_rate = lr, .beta_1 = b1});
    std::vector<double> m(3, 0), u(3, 0);
    expect_same(horn_steps(opt, 3), hand_steps([&](auto& w, auto& g, int t) {
                  const double lr_t = lr / (1 - std::pow(b1, t));
                  for (int i = 0; i < 3; ++i) {
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    u[i] = std::max(0.999 * u[i], std::abs(g[i]));
                    w[i] -= lr_t * m[i] / (u[i] + 1e-7);
                  }
                }, 3));
  }
}

TEST(Optimizers, Nadam) {
  for (auto [lr, decay] : {std::pair{0.002, 0.004}, std::pair{0.01, 0.01}}) {
    Nadam opt({.learning_rate = lr, .schedule_decay = decay});
    const double b1 = 0.9, b2 = 0.999;
    std::vector<double> m(3, 0), v(3, 0);
    double schedule = 1;
    expect_same(horn_steps(opt, 3), hand_steps([&](auto& w, auto& g, int t) {
                  const double cache_t = b1 * (1 - 0.5 * std::pow(0.96, t * decay));
                  const double cache_t1 = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * decay));
                  const double schedule_new = schedule * cache_t, schedule_next = schedule_new * cache_t1;
                  for (int i = 0; i < 3; ++i) {
                    const double g_prime = g[i] / (1 - schedule_new);
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    const double m_prime = m[i] / (1 - schedule_next), v_prime = v[i] / (1 - std::pow(b2, t));
                    const double m_bar = (1 - cache_t) * g_prime + cache_t1 * m_prime;
                    w[i] -= lr * m_bar / (std::sqrt(v_prime) + 1e-7);
                  }
                  schedule = schedule_new;
                }, 3));
  }
}

TEST(Optimizers, ByNameWithKerasDefaults) {
  EXPECT_EQ(get("adam")->name(), "Adam");
  EXPECT_EQ(get("SGD")->config().at("learning_rate"), 0.01);
  EXPECT_EQ(get("rmsprop")->config().at("learning_rate"), 0.001);
  EXPECT_EQ(get("adagrad")->config().at("learning_rate"), 0.01);
  EXPECT_EQ(get("adadelta")->config().at("learning_rate"), 1.0);
  EXPECT_EQ(get("adamax")->config().at("learning_rate"), 0.002);
  EXPECT_EQ(get("nadam")->config().at("learning_rate"), 0.002);
  EXPECT_EQ(get("Adam")->config().at("epsilon"), 1e-7);
  testing::expect_error([] { get("adamw"); }, {"unknown optimizer 'adamw'", "SGD", "RMSprop", "Nadam"});
  testing::expect_error([] { Adam({.learning_rate = -1}); }, {"learning_rate", "-1"});
  testing::expect_error([] { SGD({.momentum = -0.5}); }, {"momentum", "-0.5"});
  testing::expect_error([] { RMSprop({.decay = -1}); }, {"decay"});
}

}  // namespace
}  // namespace horn::keras
