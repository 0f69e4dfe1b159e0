#include <cmath>
#include <type_traits>

#include "tests/test_util.h"

namespace horn {
namespace {
using testing::D;
using testing::eval;
using testing::expect_error;
using testing::expect_near;
using testing::F;

TEST(NnOps, SoftmaxAndLogSoftmax) {
  Graph g;
  Output x = ops::Const(g, F({2, 3}, {1, 2, 3, 0, 0, 0}));
  const double z = std::exp(1) + std::exp(2) + std::exp(3);
  expect_near(eval(ops::Softmax(x)), {2, 3}, {std::exp(1) / z, std::exp(2) / z, std::exp(3) / z, 1. / 3, 1. / 3, 1. / 3});
  expect_near(eval(ops::LogSoftmax(x)), {2, 3},
              {1 - std::log(z), 2 - std::log(z), 3 - std::log(z), -std::log(3), -std::log(3), -std::log(3)});
  Output big = ops::Const(g, F({1, 3}, {1e4f, 0, -1e4f}));
  expect_near(eval(ops::Softmax(big)), {1, 3}, {1, 0, 0});
  expect_near(eval(ops::LogSoftmax(big)), {1, 3}, {0, -1e4, -2e4});
  expect_error([&] { ops::Softmax(ops::Scalar(g, 1)); }, {"Softmax", "scalar"});
}

TEST(NnOps, SoftmaxCrossEntropyWithLogits) {
  Graph g;
  Output logits = ops::Const(g, D({2, 3}, {1, 2, 3, 1, 1, 1}));
  Output labels = ops::Const(g, D({2, 3}, {0, 0, 1, 0.5, 0.5, 0}));
  const double z = std::exp(1) + std::exp(2) + std::exp(3);
  expect_near(eval(ops::SoftmaxCrossEntropyWithLogits({.labels = labels, .logits = logits})), {2},
              {std::log(z) - 3, std::log(3)}, 1e-12);
  // Logits of magnitude 1e4 stay finite.
  Output big = ops::Const(g, F({1, 3}, {1e4f, -1e4f, 0}));
  Output onehot = ops::Const(g, F({1, 3}, {0, 1, 0}));
  expect_near(eval(ops::SoftmaxCrossEntropyWithLogits({.labels = onehot, .logits = big})), {1}, {2e4});
  Output bad_labels = ops::Const(g, D({2, 2}, {0, 0, 0, 0}));
  expect_error([&] { ops::SoftmaxCrossEntropyWithLogits({.labels = bad_labels, .logits = logits}); },
               {"SoftmaxCrossEntropyWithLogits", "[2,3]", "[2,2]"});
}

// TensorFlow users write (labels, logits), Horn's old builder took (logits, labels): both
// type-check and one silently gives a negative loss. Named arguments only.
static_assert(!std::is_invocable_v<decltype(&ops::SoftmaxCrossEntropyWithLogits), Output, Output>,
              "SoftmaxCrossEntropyWithLogits must not take positional (logits, labels)");

TEST(NnOps, SoftmaxCrossEntropyWithLogitsNeedsBothNamedArguments) {
  Graph g;
  Output logits = ops::Const(g, D({1, 2}, {1, 2}));
  expect_error([&] { ops::SoftmaxCrossEntropyWithLogits({.logits = logits}); }, {".labels", ".logits"});
}

TEST(MatMulOp, AllTransposeCombinations) {
  Graph g;
  Output a = ops::Const(g, F({2, 3}, {1, 2, 3, 4, 5, 6}));
  Output b = ops::Const(g, F({3, 2}, {7, 8, 9, 10, 11, 12}));
  const std::vector<double> ab = {58, 64, 139, 154};
  expect_near(eval(ops::MatMul(a, b)), {2, 2}, ab);
  Output at = ops::Const(g, F({3, 2}, {1, 4, 2, 5, 3, 6}));
  Output bt = ops::Const(g, F({2, 3}, {7, 9, 11, 8, 10, 12}));
  expect_near(eval(ops::MatMul(at, b, true, false)), {2, 2}, ab);
  expect_near(eval(ops::MatMul(a, bt, false, true)), {2, 2}, ab);
  expect_near(eval(ops::MatMul(at, bt, true, true)), {2, 2}, ab);
  Output e = ops::Const(g, Tensor::zeros(DType::kFloat32, {2, 0}));
  Output f = ops::Const(g, Tensor::zeros(DType::kFloat32, {0, 4}));
  expect_near(eval(ops::MatMul(e, f)), {2, 4}, std::vector<double>(8, 0));
  expect_error([&] { ops::MatMul(a, a); }, {"MatMul", "inner dimensions 3 and 2 differ"});
  expect_error([&] { ops::MatMul(a, ops::Scalar(g, 1)); }, {"MatMul", "rank 2"});
}

TEST(MatMulOp, LargeProductMatchesNaiveAndIsThreadCountIndependent) {
  Graph g;
  Tensor av = Tensor::uniform(DType::kFloat64, {100, 784}, -1, 1, 1);
  Tensor bv = Tensor::uniform(DType::kFloat64, {784, 500}, -1, 1, 2);
  Output c = ops::MatMul(ops::Const(g, av), ops::Const(g, bv));
  Tensor one = eval(c, {}, 1), two = eval(c, {}, 2);
  EXPECT_TRUE(one.bitwise_equal(two));
  for (int64_t i : {0, 37, 99})
    for (int64_t j : {0, 131, 499}) {
      double want = 0;
      for (int64_t k = 0; k < 784; ++k) want += av.at<double>({i, k}) * bv.at<double>({k, j});
      EXPECT_NEAR((one.at<double>({i, j})), want, 1e-10);
    }
}

// float32 products run on oneDNN at every size where it runs (ops/matmul_op.cc): still the
// same bits for any thread count and compiled or not, in every transpose combination, within
// float32 accumulation of the exact product. The shapes take each panel policy: one call (a
// tiny product), two 50-row halves (a batch of 100), and 128-row panels with a ragged edge.
// A transposed A is copied through 16 x 16 register tiles: k = 37 and 300 rows leave ragged
// tiles too.
TEST(MatMulOp, Float32ProductsOnOneDnnAtEverySize) {
  struct Case {
    int64_t m, k, n;
  };
  for (const Case& s : {Case{7, 5, 3}, Case{100, 784, 500}, Case{300, 37, 130}, Case{1100, 256, 1030}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        SCOPED_TRACE(std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n) + ", " +
                     (ta ? "A^T" : "A") + " x " + (tb ? "B^T" : "B"));
        const int64_t m = s.m, k = s.k, n = s.n;
        Graph g;
        const Shape sa = ta ? Shape{k, m} : Shape{m, k}, sb = tb ? Shape{n, k} : Shape{k, n};
        const Tensor av = Tensor::uniform(DType::kFloat32, sa, -1, 1, 3);
        const Tensor bv = Tensor::uniform(DType::kFloat32, sb, -1, 1, 4);
        Output a = ops::Placeholder(g, DType::kFloat32, sa), b = ops::Placeholder(g, DType::kFloat32, sb);
        Output c = ops::MatMul(a, b, ta, tb);
        const Session::Feeds feeds{{a, av}, {b, bv}};
        Session one(g, {.num_threads = 1}), two(g, {.num_threads = 2}), plain(g, {.optimize = false});
        const Tensor c1 = one.run(feeds, c);
        EXPECT_TRUE(c1.bitwise_equal(two.run(feeds, c))) << "thread count changed the bits";
        EXPECT_TRUE(c1.bitwise_equal(plain.run(feeds, c))) << "compiled differs from the reference interpreter";
        // Every row at three columns and every column at three rows: each panel, each tile.
        auto check = [&](int64_t i, int64_t j) {
          double want = 0;
          for (int64_t p = 0; p < k; ++p)
            want += double(ta ? av.at<float>({p, i}) : av.at<float>({i, p})) *
                    double(tb ? bv.at<float>({j, p}) : bv.at<float>({p, j}));
          EXPECT_NEAR(c1.at<float>({i, j}), want, 1e-6 * k) << i << ", " << j;
        };
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j : {int64_t{0}, n * 3 / 4, n - 1}) check(i, j);
        for (int64_t i : {int64_t{0}, m / 2, m - 1})
          for (int64_t j = 0; j < n; ++j) check(i, j);
      }
}

}  // namespace
}  // namespace horn
