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

// A middle axis is summed in blocks of 256 rows, each from its first row, and the blocks'
// partials added in order (ops/reduction.h), by the plain reduction and by the compiler's
// fused one alike, on any thread count. A column of 1e8 then 511 ones tells the association
// apart: summed from the top, every 1 is lost to rounding (1e8); in blocks, the second
// block's 256 ones survive (1e8 + 256). Max reductions are exact in any order.
TEST(ReduceOps, MiddleAxisSumsRunInFixedRowBlocks) {
  Graph g;
  Tensor v = Tensor::ones(DType::kFloat32, {512, 3});
  for (int64_t c = 0; c < 3; ++c) v.data<float>()[c] = 1e8f;
  v.data<float>()[2] = -5;  // a column with nothing lost: 506
  Output x = ops::Placeholder(g, DType::kFloat32, {512, 3}, "x");
  Output plain = ops::Sum(x, {0});
  Output fused = ops::Sum(ops::Relu(x) * 2.0, {0});  // a FusedReduce
  Output top = ops::Max(x, {0});
  // A GEMM's column sums (FusedMatMul "column_sum"): relu(x times the identity), summed.
  Output product_sums =
      ops::Sum(ops::Relu(ops::MatMul(x, ops::Const(g, F({3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1})))), {0});
  for (int threads : {1, 2, 3}) {
    Session s(g, {.num_threads = threads});
    const std::vector<Tensor> r = s.run({{x, v}}, {plain, fused, top, product_sums});
    EXPECT_EQ(r[3].data<float>()[0], 1e8f + 256) << threads << " threads";
    EXPECT_EQ(r[3].data<float>()[2], 511) << threads << " threads";
    EXPECT_EQ(r[0].data<float>()[0], 1e8f + 256) << threads << " threads";
    EXPECT_EQ(r[0].data<float>()[2], 506) << threads << " threads";
    EXPECT_EQ(r[1].data<float>()[0], 2e8f + 512) << threads << " threads";
    EXPECT_EQ(r[1].data<float>()[2], 1022) << threads << " threads";
    EXPECT_EQ(r[2].data<float>()[1], 1e8f) << threads << " threads";
    EXPECT_EQ(r[2].data<float>()[2], 1) << threads << " threads";
  }
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
