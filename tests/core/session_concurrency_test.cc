// One Session, many threads: every run gives the bits it gives alone, whichever plans run
// at the same time, and a training step is never seen half done.
#include <atomic>
#include <thread>
#include <vector>

#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn {
namespace {

constexpr DType f32 = DType::kFloat32;
constexpr int kThreads = 8;

// Runs fn(thread) on kThreads threads at once and waits for all.
template <typename Fn>
void on_threads(Fn fn) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back([&fn, t] { fn(t); });
  for (std::thread& t : threads) t.join();
}

bool all_bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].bitwise_equal(b[i])) return false;
  return true;
}

TEST(SessionConcurrency, RunsOnEightThreadsMatchSerialRunsBitwise) {
  Graph g;
  Output x = ops::Placeholder(g, f32, {-1, 64}, "x");
  Output z = ops::Placeholder(g, f32, {-1, 32}, "z");
  Output w = ops::Variable(g, Tensor::uniform(f32, {64, 32}, -0.2, 0.2, 5), "w");
  Output h = ops::Tanh(ops::MatMul(x, w));
  Output probs = ops::Softmax(h * 3.0);
  Output column_sums = ops::Sum(h, {0});
  Output mixed = ops::Sigmoid(h + z) * ops::Exp(z * 0.1);
  Session s(g, {.num_threads = 2, .min_task_work = 0});  // every node a task: the most interleaving
  s.initialize_variables();

  struct Case {
    Session::Feeds feeds;
    std::vector<Output> fetches;
  };
  std::vector<Case> cases;
  for (int64_t batch : {1, 7, 32, 100}) {
    Tensor xv = Tensor::normal(f32, {batch, 64}, 0, 1, static_cast<uint64_t>(batch));
    Tensor zv = Tensor::normal(f32, {batch, 32}, 0, 1, static_cast<uint64_t>(batch) + 100);
    cases.push_back({{{x, xv}}, {probs, column_sums}});
    cases.push_back({{{x, xv}, {z, zv}}, {mixed, h}});
    cases.push_back({{{z, zv}, {x, xv}}, {column_sums}});  // another feed order: another plan
  }
  const Tensor w0 = s.variable_value(w.node);
  std::vector<std::vector<Tensor>> expected;
  for (const Case& c : cases) expected.push_back(s.run(c.feeds, c.fetches));

  std::atomic<int> mismatches{0};
  on_threads([&](int t) {
    for (int k = 0; k < 60; ++k) {
      // Threads walk the cases from different places: the same plan and different plans at once.
      const size_t i = (t * 5 + k * (t % 2 ? 1 : 7)) % cases.size();
      if (!all_bitwise_equal(s.run(cases[i].feeds, cases[i].fetches), expected[i])) ++mismatches;
      if (k % 20 == 0) s.plan_summary(cases[i].feeds, cases[i].fetches);
      if (k % 15 == 0 && !s.variable_value(w.node).bitwise_equal(w0)) ++mismatches;
    }
  });
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(s.run_counter(), cases.size() + kThreads * 60);
}

keras::Sequential small_model(uint64_t seed) {
  using namespace keras;
  Sequential m({.seed = seed, .num_threads = 2});
  m.add(Dense(32, {.input_dim = 20, .activation = "relu"}));
  m.add(Dense(10, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  return m;
}

Tensor labels_for(int64_t n) {
  Tensor labels(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(i * 7 % 10);
  return keras::utils::to_categorical(labels, 10);
}

TEST(SessionConcurrency, KerasPredictAndEvaluateOnEightThreads) {
  keras::Sequential m = small_model(7);
  Tensor x = Tensor::uniform(f32, {150, 20}, -1, 1, 3);
  Tensor y = labels_for(150);
  const Tensor predicted = m.predict(x, {.batch_size = 16});  // 9 full batches and one of 6
  const Tensor one_batch = m.predict(x.slice_rows(0, 40), {.batch_size = 40});
  const std::vector<double> score = m.evaluate(x, y, {.batch_size = 32});

  std::atomic<int> mismatches{0};
  on_threads([&](int t) {
    for (int k = 0; k < 6; ++k) {
      if ((t + k) % 3 == 0) {
        if (m.evaluate(x, y, {.batch_size = 32}) != score) ++mismatches;
      } else if ((t + k) % 3 == 1) {
        if (!m.predict(x, {.batch_size = 16}).bitwise_equal(predicted)) ++mismatches;
      } else {
        if (!m.predict(x.slice_rows(0, 40), {.batch_size = 40}).bitwise_equal(one_batch)) ++mismatches;
      }
    }
  });
  EXPECT_EQ(mismatches.load(), 0);
}

// A training thread and seven predicting threads: each prediction is one made alone before
// or after some whole training step, and the weights end as after the same steps alone.
TEST(SessionConcurrency, TrainingBesidePredictionsIsSerializable) {
  constexpr int kSteps = 12;
  Tensor x = Tensor::uniform(f32, {64, 20}, -1, 1, 11);
  Tensor y = labels_for(64);
  Tensor probe = Tensor::uniform(f32, {24, 20}, -1, 1, 12);

  keras::Sequential alone = small_model(3);
  std::vector<Tensor> after_step{alone.predict(probe, {.batch_size = 24})};
  for (int step = 0; step < kSteps; ++step) {
    alone.train_on_batch(x, y);
    after_step.push_back(alone.predict(probe, {.batch_size = 24}));
  }

  keras::Sequential shared = small_model(3);
  std::atomic<bool> training{true};
  std::atomic<int> unexplained{0}, predictions{0};
  on_threads([&](int t) {
    if (t == 0) {
      for (int step = 0; step < kSteps; ++step) shared.train_on_batch(x, y);
      training = false;
      return;
    }
    while (training || predictions < kThreads) {
      const Tensor p = shared.predict(probe, {.batch_size = 24});  // one run
      bool explained = false;
      for (const Tensor& e : after_step) explained = explained || p.bitwise_equal(e);
      if (!explained) ++unexplained;
      ++predictions;
    }
  });
  EXPECT_EQ(unexplained.load(), 0);
  EXPECT_TRUE(shared.predict(probe, {.batch_size = 24}).bitwise_equal(after_step.back()));
  const std::vector<Tensor> a = alone.get_weights(), b = shared.get_weights();
  EXPECT_TRUE(all_bitwise_equal(a, b));
}

}  // namespace
}  // namespace horn
