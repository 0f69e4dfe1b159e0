#include <cmath>
#include <oneapi/tbb/global_control.h>

#include "tests/test_util.h"

namespace horn {
namespace {
using testing::expect_error;
using testing::F;

TEST(Session, RunsAGraphWithFeeds) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 2}, "x");
  Output y = x * 2.0 + 1.0;
  Session s(g);
  testing::expect_near(s.run({{x, F({2, 2}, {1, 2, 3, 4})}}, y), {2, 2}, {3, 5, 7, 9});
  testing::expect_near(s.run({{x, F({1, 2}, {0, -1})}}, y), {1, 2}, {1, -1});
}

TEST(Session, MissingFeedNamesThePlaceholder) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 784}, "images");
  Output y = ops::Relu(x);
  Session s(g);
  expect_error([&] { s.run({}, y); }, {"Placeholder 'images'", "feed", "[?,784]"});
}

TEST(Session, WrongFeedShapeOrDtypeNamesBoth) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 784}, "images");
  Output y = ops::Relu(x);
  Session s(g);
  expect_error([&] { s.run({{x, Tensor::zeros(DType::kFloat32, {10, 783})}}, y); },
               {"'images'", "[?,784]", "[10,783]"});
  expect_error([&] { s.run({{x, Tensor::zeros(DType::kFloat64, {10, 784})}}, y); },
               {"'images'", "float32", "float64"});
}

TEST(Session, RunTimeShapeMismatchIsAnError) {
  Graph g;
  Output a = ops::Placeholder(g, DType::kFloat32, {-1}, "a");
  Output b = ops::Placeholder(g, DType::kFloat32, {-1}, "b");
  Output c = a + b;
  Session s(g);
  expect_error([&] { s.run({{a, F({2}, {1, 2})}, {b, F({3}, {1, 2, 3})}}, c); },
               {"Add", "[2]", "[3]", "broadcast"});
}

TEST(Session, VariablesInitialiseAssignAndUpdate) {
  Graph g;
  Output v = ops::Variable(g, F({2}, {1, 2}), "v");
  Output add = ops::AssignAdd(v, ops::Const(g, F({2}, {10, 10})));
  Output sub = ops::AssignSub(v, ops::Const(g, F({2}, {1, 1})));
  Output set = ops::Assign(v, ops::Const(g, F({2}, {7, 8})));
  Session s(g);
  expect_error([&] { s.run({}, v); }, {"Variable 'v'", "initialised"});
  s.initialize_variables();
  testing::expect_near(s.run({}, add), {2}, {11, 12});
  testing::expect_near(s.run({}, sub), {2}, {10, 11});
  s.run({}, {}, {set.node});
  testing::expect_near(s.variable_value(v.node), {2}, {7, 8});
  s.set_variable_value(v.node, F({2}, {0, 0}));
  testing::expect_near(s.run({}, v), {2}, {0, 0});
  expect_error([&] { s.set_variable_value(v.node, F({3}, {0, 0, 0})); }, {"'v'", "[2]", "[3]"});
  expect_error([&] { ops::Assign(add, add); }, {"must be a Variable"});
}

// A training-step pattern: a gradient that reads w, and an update of w in the same run.
// Whatever the creation order, the update must run after every read of w.
TEST(Session, VariableWritesRunAfterReadsInTheSameRun) {
  Graph g;
  Output w = ops::Variable(g, F({1}, {3}), "w");
  Output update = ops::AssignSub(w, ops::Const(g, F({1}, {1})));
  Output read_late = w * 2.0;  // created after the update, fetched in the same run
  Session s(g);
  s.initialize_variables();
  auto out = s.run({}, {read_late}, {update.node});
  testing::expect_near(out[0], {1}, {6});
  testing::expect_near(s.variable_value(w.node), {1}, {2});
}

// With every node in a task of its own, on two threads: a write of a variable still waits
// for every read of it, and a kernel's error reaches the caller with the session usable.
TEST(Session, ConcurrentNodesKeepVariableOrderAndReportErrors) {
  Graph g;
  Output one = ops::Const(g, F({1}, {1}));  // first: the update is ready as soon as w is
  Output w = ops::Variable(g, F({1}, {3}), "w");
  Output late = ops::Variable(g, F({1}, {5}), "late");
  std::vector<Output> reads;
  for (int i = 0; i < 8; ++i) reads.push_back(ops::Tanh(w * static_cast<double>(i)) + w);
  Output update = ops::AssignSub(w, one);
  Output uses_late = ops::Exp(late) + reads[0];
  Session s(g, {.num_threads = 2, .min_task_work = 0});
  s.initialize_variables();
  for (int run = 0; run < 50; ++run) {
    s.set_variable_value(w.node, F({1}, {3}));
    const std::vector<Tensor> out = s.run({}, reads, {update.node});
    for (int i = 0; i < 8; ++i) testing::expect_near(out[i], {1}, {std::tanh(3.0f * i) + 3.0f});
    testing::expect_near(s.variable_value(w.node), {1}, {2});
  }
  Session fresh(g, {.num_threads = 2, .min_task_work = 0});
  fresh.set_variable_value(w.node, F({1}, {3}));
  expect_error([&] { fresh.run({}, {uses_late}, {update.node}); }, {"Variable 'late'", "initialised"});
  fresh.set_variable_value(late.node, F({1}, {0}));
  fresh.set_variable_value(w.node, F({1}, {3}));
  testing::expect_near(fresh.run({}, {uses_late}, {update.node})[0], {1}, {1 + std::tanh(0.0f) + 3});
}

// Misuse is refused before any work runs, and the message names the culprit.
TEST(Session, RefusesAKeyFedTwice) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1}, "x");
  Session s(g);
  expect_error([&] { s.run({{x, F({1}, {1})}, {x, F({1}, {2})}}, x * 2.0); },
               {"'x'", "fed twice", "feeds[1]"});
}

TEST(Session, RefusesOutputIndicesTheNodeDoesNotHave) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1}, "x");
  Output y = ops::Relu(x, "relu");
  Session s(g);
  const Session::Feeds feeds{{x, F({1}, {1})}};
  expect_error([&] { s.run(feeds, {y, Output{y.node, 1}}); },
               {"fetches[1]", "output 1", "'relu'", "1 output"});
  expect_error([&] { s.run(feeds, {Output{y.node, -1}}); }, {"fetches[0]", "output -1", "'relu'"});
  expect_error([&] { s.run({{Output{x.node, 2}, F({1}, {1})}}, y); }, {"feeds[0]", "output 2", "'x'"});
  expect_error([&] { s.run(feeds, {Output{}}); }, {"fetches[0]", "unset"});
  expect_error([&] { s.run({{Output{}, F({1}, {1})}}, {y}); }, {"feeds[0]", "unset"});
  expect_error([&] { s.run(feeds, {y}, {y.node, nullptr}); }, {"targets[1]", "null"});
  Graph other;
  Output z = ops::Placeholder(other, DType::kFloat32, {-1}, "z");
  expect_error([&] { s.run(feeds, {y}, {z.node}); }, {"targets[0]", "'z'", "not in this graph"});
  EXPECT_EQ(s.run_counter(), 0u) << "refused runs take no run number";
  testing::expect_near(s.run(feeds, y), {1}, {1});
}

// The plan cache keeps the most recently used plans only; a dropped plan is made again.
TEST(Session, PlanCacheIsBounded) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1}, "x");
  Output y = x * 2.0;
  Session s(g, {.max_cached_plans = 2});
  for (int round = 0; round < 2; ++round)
    for (int64_t n = 1; n <= 4; ++n) {  // four batch sizes: four plans
      Tensor out = s.run({{x, Tensor::ones(DType::kFloat32, {n})}}, y);
      testing::expect_near(out, {n}, std::vector<double>(n, 2.0));
      EXPECT_LE(s.num_cached_plans(), 2u);
    }
  EXPECT_EQ(s.num_cached_plans(), 2u);
}

TEST(Session, ResultsAreBitwiseIdenticalForOneAndTwoThreads) {
  Graph g;
  const int64_t n = 1 << 20;  // big enough to be split into many blocks
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 1024}, "x");
  Output w = ops::Variable(g, Tensor::uniform(DType::kFloat32, {1024, 512}, -0.05, 0.05, 3), "w");
  Output h = ops::Sigmoid(ops::MatMul(x, w));
  Output total = ops::Sum(ops::Exp(x) * 0.5);
  Output col = ops::Sum(h, {0});
  Output sm = ops::Softmax(h);
  Tensor xv = Tensor::normal(DType::kFloat32, {n / 1024, 1024}, 0, 1, 9);
  std::vector<Tensor> one, two;
  for (int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    Session s(g, {.num_threads = threads});
    s.initialize_variables();
    (threads == 1 ? one : two) = s.run({{x, xv}}, {h, total, col, sm});
  }
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i].bitwise_equal(two[i])) << "fetch " << i;
}

}  // namespace
}  // namespace horn
