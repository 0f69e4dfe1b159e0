#include "tests/test_util.h"

namespace horn {
namespace {
using testing::eval;
using testing::expect_error;
using testing::expect_near;
using testing::F;

TEST(ReduceOps, SumMeanMaxOverAxes) {
  Graph g;
  Output x = ops::Const(g, F({2, 3}, {1, 2, 3, 4, 5, 6}));
  expect_near(eval(ops::Sum(x)), {}, {21});
  expect_near(eval(ops::Sum(x, {0})), {3}, {5, 7, 9});
  expect_near(eval(ops::Sum(x, {1}, true)), {2, 1}, {6, 15});
  expect_near(eval(ops::Sum(x, {-1})), {2}, {6, 15});
  expect_near(eval(ops::Mean(x, {0})), {3}, {2.5, 3.5, 4.5});
  expect_near(eval(ops::Mean(x)), {}, {3.5});
  expect_near(eval(ops::Max(x, {1})), {2}, {3, 6});
  expect_near(eval(ops::Max(x, {0}, true)), {1, 3}, {4, 5, 6});
  Output y = ops::Const(g, Tensor::arange(DType::kFloat32, 24).reshaped({2, 3, 4}));
  expect_near(eval(ops::Sum(y, {0, 2})), {3}, {0 + 1 + 2 + 3 + 12 + 13 + 14 + 15, 92, 124});
  expect_near(eval(ops::Sum(y, {1, 2})), {2}, {66, 210});
  expect_near(eval(ops::Max(y, {1})), {2, 4}, {8, 9, 10, 11, 20, 21, 22, 23});
}

TEST(ReduceOps, LargeSumIsAccurateAndEmptyReductionsHaveIdentities) {
  Graph g;
  const int64_t n = 1 << 24;
  Output x = ops::Const(g, Tensor::ones(DType::kFloat32, {n}));
  expect_near(eval(ops::Sum(x)), {}, {double(n)});
  expect_near(eval(ops::Mean(x)), {}, {1});
  Output e = ops::Const(g, Tensor::zeros(DType::kFloat32, {0, 3}));
  expect_near(eval(ops::Sum(e, {0})), {3}, {0, 0, 0});
}

TEST(ReduceOps, ArgMax) {
  Graph g;
  Output x = ops::Const(g, F({2, 3}, {1, 9, 3, 7, 5, 6}));
  Tensor a = eval(ops::ArgMax(x));
  EXPECT_EQ(a.dtype(), DType::kInt32);
  expect_near(a, {2}, {1, 0});
  expect_near(eval(ops::ArgMax(x, 0)), {3}, {1, 0, 1});
  expect_error([&] { ops::ArgMax(x, 2); }, {"ArgMax", "axis 2"});
}

TEST(ReduceOps, BroadcastLikeAndReduceToShapeLike) {
  Graph g;
  Output b = ops::Const(g, F({3}, {1, 2, 3}));
  Output like = ops::Placeholder(g, DType::kFloat32, {-1, 3}, "like");
  Tensor lv = Tensor::zeros(DType::kFloat32, {2, 3});
  expect_near(eval(ops::BroadcastLike(b, like), {{like, lv}}), {2, 3}, {1, 2, 3, 1, 2, 3});
  Output big = ops::Const(g, F({2, 3}, {1, 2, 3, 4, 5, 6}));
  Output c = ops::Const(g, F({2, 1}, {0, 0}));
  expect_near(eval(ops::ReduceToShapeLike(big, b)), {3}, {5, 7, 9});
  expect_near(eval(ops::ReduceToShapeLike(big, c)), {2, 1}, {6, 15});
  expect_near(eval(ops::ReduceToShapeLike(big, ops::Scalar(g, 0))), {}, {21});
}

}  // namespace
}  // namespace horn
