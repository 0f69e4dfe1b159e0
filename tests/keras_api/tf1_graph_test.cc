// TensorFlow 1 habits on the graph API (issue 15): trainable variables, optimizer.minimize,
// and next_batch. Updates checked against hand-computed gradient steps.
#include <algorithm>
#include <set>

#include "autodiff/gradients.h"
#include "keras_api/keras.h"
#include "ops/ops.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

std::vector<std::string> names_of(const std::vector<Node*>& nodes) {
  std::vector<std::string> out;
  for (Node* n : nodes) out.push_back(n->name);
  return out;
}

TEST(TrainableVariables, SlotsStepCountsAndMovingStatisticsAreNotTrainable) {
  Sequential m;
  m.add(Dense(4, {.input_dim = 3}));
  m.add(BatchNormalization());
  m.add(Dense(2, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam"});
  std::vector<std::string> expected;
  for (const auto& layer : m.layers())
    for (const Output& w : layer->trainable_weights()) expected.push_back(w.node->name);
  EXPECT_EQ(names_of(m.graph().trainable_variables()), expected);
  EXPECT_GT(m.graph().variables().size(), expected.size() + 4);  // moving stats, slots, counters
}

// y = w x + b on two examples, mean squared error; one step of SGD(0.1):
// err = (0.5 - 1, 1 - 3) = (-0.5, -2); dL/dw = mean(2 err x) = -4.5, dL/db = mean(2 err) = -2.5.
struct LinearModel {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 1}, "x");
  Output y = ops::Placeholder(g, DType::kFloat32, {-1, 1}, "y");
  Output w = ops::Variable(g, Tensor(Shape{1, 1}, std::vector<float>{0.5f}), "w");
  Output b = ops::Variable(g, Tensor(Shape{1}, std::vector<float>{0.0f}), "b");
  Output steps = ops::Variable(g, Tensor::scalar(0.0f), "steps", /*trainable=*/false);
  Output loss = ops::Mean(ops::Square(ops::MatMul(x, w) + b - y));
  Session::Feeds feeds() const {
    return {{x, Tensor(Shape{2, 1}, std::vector<float>{1, 2})}, {y, Tensor(Shape{2, 1}, std::vector<float>{1, 3})}};
  }
};
float value(Session& s, Output v) { return s.run({}, v).data<float>()[0]; }

TEST(Minimize, StepsTheTrainableVariablesByDefault) {
  LinearModel m;
  EXPECT_EQ(names_of(m.g.trainable_variables()), (std::vector<std::string>{"w", "b"}));
  std::vector<Node*> train_step = optimizers::SGD(0.1).minimize(m.loss);
  Session s(m.g);
  s.initialize_variables();
  EXPECT_FLOAT_EQ(s.run(m.feeds(), {m.loss}, train_step)[0].data<float>()[0], 2.125f);
  EXPECT_FLOAT_EQ(value(s, m.w), 0.95f);
  EXPECT_FLOAT_EQ(value(s, m.b), 0.25f);
  EXPECT_FLOAT_EQ(value(s, m.steps), 0.0f);
}

TEST(Minimize, VarListRestrictsTheStep) {
  LinearModel m;
  std::vector<Node*> train_step = optimizers::SGD(kw::lr = 0.1).minimize(m.loss, {m.w});
  Session s(m.g);
  s.initialize_variables();
  s.run(m.feeds(), {m.loss}, train_step);
  EXPECT_FLOAT_EQ(value(s, m.w), 0.95f);
  EXPECT_FLOAT_EQ(value(s, m.b), 0.0f);
}

TEST(Minimize, NoTrainableVariablesIsAnError) {
  Graph g;
  Output v = ops::Variable(g, Tensor::scalar(1.0f), "frozen", /*trainable=*/false);
  Output loss = ops::Square(v);
  expect_error([&] { optimizers::SGD(0.1).minimize(loss); }, {"minimize", "no trainable variables", "var_list"});
}

Tensor column(int64_t n, float offset) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i) + offset;
  return Tensor(Shape{n, 1}, v);
}

TEST(NextBatch, ShufflesEachEpochAndCrossesEpochEndsAsTensorFlow) {
  datasets::Batches data(column(10, 0), column(10, 100), {.seed = 3});
  std::vector<float> seen;
  for (int i = 0; i < 2; ++i) {
    auto [xs, ys] = data.next_batch(4);
    ASSERT_EQ(xs.shape(), Shape({4, 1}));
    for (int64_t r = 0; r < 4; ++r) {
      EXPECT_EQ(ys.data<float>()[r], xs.data<float>()[r] + 100);  // rows stay paired
      seen.push_back(xs.data<float>()[r]);
    }
  }
  EXPECT_EQ(data.epochs_completed(), 0);
  auto [xs, ys] = data.next_batch(4);  // the last 2 of epoch 0, then 2 of epoch 1
  EXPECT_EQ(data.epochs_completed(), 1);
  seen.push_back(xs.data<float>()[0]);
  seen.push_back(xs.data<float>()[1]);
  std::vector<float> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));  // epoch 0: each once
  EXPECT_NE(seen, sorted);                                                   // shuffled

  datasets::Batches same(column(10, 0), column(10, 100), {.seed = 3});
  EXPECT_TRUE(same.next_batch(10).first.bitwise_equal(datasets::Batches(column(10, 0), column(10, 100), {.seed = 3})
                                                          .next_batch(10).first));
  datasets::Batches in_order(column(10, 0), column(10, 100), {.shuffle = false});
  EXPECT_EQ(in_order.next_batch(3).first.data<float>()[2], 2.0f);

  expect_error([] { datasets::Batches(column(10, 0), column(9, 0)); }, {"10 examples", "9"});
  expect_error([&] { data.next_batch(11); }, {"batch_size", "1..10", "11"});
}

}  // namespace
}  // namespace horn::keras
