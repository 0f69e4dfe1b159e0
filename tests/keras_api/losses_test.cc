// Every loss against values computed by hand here (plain loops in double precision).
#include <cmath>
#include <functional>

#include "keras_api/losses.h"
#include "keras_api/metrics.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {

using Rows = std::vector<std::vector<double>>;
const Rows kTrue = {{0, 1, 0}, {1, 0, 0}};
const Rows kPred = {{0.2, 0.7, 0.1}, {0.5, 0.3, 0.2}};
const Rows kSigned = {{-1, 1, 1}, {1, -1, -1}};  // hinge targets
const Rows kRaw = {{0.3, -1.2, 2.0}, {-0.4, 0.8, 1.5}};
constexpr double eps = 1e-7;

Tensor rows(const Rows& r) {
  std::vector<double> flat;
  for (const auto& row : r) flat.insert(flat.end(), row.begin(), row.end());
  return Tensor(Shape{static_cast<int64_t>(r.size()), static_cast<int64_t>(r[0].size())}, flat);
}

std::vector<double> horn_loss(const std::string& name, const Rows& t, const Rows& p) {
  Graph g;
  Output yt = ops::Const(g, rows(t)), yp = ops::Const(g, rows(p));
  return testing::values(testing::eval(losses::compute(losses::Loss(name), yt, yp)));
}

std::vector<double> by_hand(const Rows& t, const Rows& p, const std::function<double(const std::vector<double>&, const std::vector<double>&)>& f) {
  std::vector<double> out;
  for (size_t r = 0; r < t.size(); ++r) out.push_back(f(t[r], p[r]));
  return out;
}

double mean_of(const std::vector<double>& t, const std::vector<double>& p, const std::function<double(double, double)>& f) {
  double s = 0;
  for (size_t i = 0; i < t.size(); ++i) s += f(t[i], p[i]);
  return s / t.size();
}

void expect_loss(const std::string& name, const Rows& t, const Rows& p, const std::vector<double>& want) {
  SCOPED_TRACE(name);
  const std::vector<double> got = horn_loss(name, t, p);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9 * std::max(1.0, std::abs(want[i])));
}

TEST(Losses, MatchHandComputedValues) {
  auto clipped = [](double v, double lo, double hi) { return std::min(std::max(v, lo), hi); };
  expect_loss("categorical_crossentropy", kTrue, kPred, {-std::log(0.7), -std::log(0.5)});
  expect_loss("mean_squared_error", kTrue, kPred, by_hand(kTrue, kPred, [](auto& t, auto& p) {
                return mean_of(t, p, [](double a, double b) { return (b - a) * (b - a); }); }));
  expect_loss("mse", kTrue, kPred, horn_loss("mean_squared_error", kTrue, kPred));
  expect_loss("mean_absolute_error", kTrue, kPred, by_hand(kTrue, kPred, [](auto& t, auto& p) {
                return mean_of(t, p, [](double a, double b) { return std::abs(b - a); }); }));
  expect_loss("mean_absolute_percentage_error", kSigned, kRaw, by_hand(kSigned, kRaw, [&](auto& t, auto& p) {
                return 100 * mean_of(t, p, [&](double a, double b) { return std::abs((a - b) / std::max(std::abs(a), eps)); }); }));
  expect_loss("mean_squared_logarithmic_error", kTrue, kPred, by_hand(kTrue, kPred, [&](auto& t, auto& p) {
                return mean_of(t, p, [&](double a, double b) {
                  const double d = std::log(std::max(b, eps) + 1) - std::log(std::max(a, eps) + 1);
                  return d * d; }); }));
  expect_loss("hinge", kSigned, kRaw, by_hand(kSigned, kRaw, [](auto& t, auto& p) {
                return mean_of(t, p, [](double a, double b) { return std::max(1 - a * b, 0.0); }); }));
  expect_loss("squared_hinge", kSigned, kRaw, by_hand(kSigned, kRaw, [](auto& t, auto& p) {
                return mean_of(t, p, [](double a, double b) { const double h = std::max(1 - a * b, 0.0); return h * h; }); }));
  expect_loss("categorical_hinge", kTrue, kRaw, by_hand(kTrue, kRaw, [](auto& t, auto& p) {
                double pos = 0, neg = -1e300;
                for (int i = 0; i < 3; ++i) { pos += t[i] * p[i]; neg = std::max(neg, (1 - t[i]) * p[i]); }
                return std::max(0.0, neg - pos + 1); }));
  expect_loss("logcosh", kTrue, kRaw, by_hand(kTrue, kRaw, [](auto& t, auto& p) {
                return mean_of(t, p, [](double a, double b) { return std::log(std::cosh(b - a)); }); }));
  expect_loss("kullback_leibler_divergence", kPred, kTrue, by_hand(kPred, kTrue, [&](auto& t, auto& p) {
                double s = 0;
                for (int i = 0; i < 3; ++i) {
                  const double tc = clipped(t[i], eps, 1), pc = clipped(p[i], eps, 1);
                  s += tc * std::log(tc / pc);
                }
                return s; }));
  expect_loss("poisson", kTrue, kPred, by_hand(kTrue, kPred, [](auto& t, auto& p) {
                return mean_of(t, p, [](double a, double b) { return b - a * std::log(b + eps); }); }));
  expect_loss("cosine_proximity", kTrue, kRaw, by_hand(kTrue, kRaw, [](auto& t, auto& p) {
                double tt = 0, pp = 0, tp = 0;
                for (int i = 0; i < 3; ++i) { tt += t[i] * t[i]; pp += p[i] * p[i]; tp += t[i] * p[i]; }
                return -tp / std::sqrt(tt * pp); }));
  expect_loss("binary_crossentropy", {{0, 1, 1}, {1, 0, 0}}, kPred, by_hand({{0, 1, 1}, {1, 0, 0}}, kPred, [](auto& t, auto& p) {
                return mean_of(t, p, [](double a, double b) { return -(a * std::log(b) + (1 - a) * std::log(1 - b)); }); }));
}

TEST(Losses, SparseAndFromLogitsForms) {
  Graph g;
  Output logits = ops::Const(g, rows(kRaw));
  Output onehot = ops::Const(g, rows(kTrue));
  Output labels = ops::Const(g, Tensor(Shape{2}, std::vector<double>{1, 0}));
  auto lse = [](const std::vector<double>& z) { double s = 0; for (double v : z) s += std::exp(v); return std::log(s); };
  const std::vector<double> want = {lse(kRaw[0]) - kRaw[0][1], lse(kRaw[1]) - kRaw[1][0]};
  Output softmax = ops::Softmax(logits);
  Output cce = losses::compute(losses::Loss("categorical_crossentropy"), onehot, softmax);
  EXPECT_EQ(cce.node->op_name(), "SoftmaxCrossEntropyWithLogits") << "softmax output uses the fused logits form";
  testing::expect_near(testing::eval(cce), {2}, want, 1e-12);
  testing::expect_near(testing::eval(losses::compute(losses::Loss("sparse_categorical_crossentropy"), labels, softmax)),
                       {2}, want, 1e-12);
  // binary cross-entropy on a sigmoid output uses its logits: exact even where sigmoid saturates.
  Output big = ops::Const(g, Tensor(Shape{1, 2}, std::vector<double>{40, -40}));
  Output targets = ops::Const(g, Tensor(Shape{1, 2}, std::vector<double>{0, 1}));
  testing::expect_near(testing::eval(losses::compute(losses::Loss("binary_crossentropy"), targets, ops::Sigmoid(big))),
                       {1}, {40 + std::log1p(std::exp(-40.0))}, 1e-12);
}

TEST(Losses, UnknownNamesListTheKnownOnes) {
  testing::expect_error([] { losses::Loss("crossentropy"); },
                        {"unknown loss 'crossentropy'", "categorical_crossentropy", "mse", "hinge"});
  EXPECT_EQ(losses::Loss("kld").name, "kullback_leibler_divergence");
  EXPECT_EQ(losses::Loss("msle").name, "mean_squared_logarithmic_error");
}

TEST(Metrics, AccuracyVariantsAndTopK) {
  Graph g;
  Output t = ops::Const(g, rows(kTrue)), p = ops::Const(g, rows({{0.2, 0.7, 0.1}, {0.2, 0.3, 0.5}}));
  testing::expect_near(testing::eval(metrics::compute("accuracy", "categorical_crossentropy", t, p)), {2}, {1, 0});
  Output labels = ops::Const(g, Tensor(Shape{2}, std::vector<double>{1, 2}));
  testing::expect_near(testing::eval(metrics::compute("acc", "sparse_categorical_crossentropy", labels, p)), {2}, {1, 1});
  Output bt = ops::Const(g, rows({{0, 1, 1}, {1, 0, 0}}));
  testing::expect_near(testing::eval(metrics::compute("accuracy", "binary_crossentropy", bt, p)), {2}, {2.0 / 3, 2.0 / 3});  // 0.5 rounds to 0, as K.round
  Output wide_t = ops::Const(g, Tensor(Shape{1, 7}, std::vector<double>{0, 0, 0, 0, 0, 0, 1}));
  Output wide_p = ops::Const(g, Tensor(Shape{1, 7}, std::vector<double>{7, 6, 5, 4, 3, 2, 1}));
  testing::expect_near(testing::eval(metrics::compute("top_k_categorical_accuracy", "", wide_t, wide_p)), {1}, {0});
  testing::expect_near(testing::eval(metrics::compute("top_k_categorical_accuracy", "", t, p)), {2}, {1, 1});
  testing::expect_error([] { metrics::validate("precision"); }, {"unknown metric 'precision'", "accuracy"});
}

}  // namespace
}  // namespace horn::keras
