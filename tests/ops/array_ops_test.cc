#include "tests/test_util.h"

namespace horn {
namespace {
using testing::eval;
using testing::expect_error;
using testing::expect_near;
using testing::F;

TEST(ArrayOps, ReshapeInfersOneDimensionAtBuildOrRunTime) {
  Graph g;
  Output x = ops::Const(g, Tensor::arange(DType::kFloat32, 6));
  Output r = ops::Reshape(x, {-1, 3});
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  expect_near(eval(r), {2, 3}, {0, 1, 2, 3, 4, 5});
  Output p = ops::Placeholder(g, DType::kFloat32, {-1, 28, 28}, "images");
  Output flat = ops::Reshape(p, {-1, 784});
  EXPECT_EQ(flat.shape(), (Shape{-1, 784}));
  EXPECT_EQ(eval(flat, {{p, Tensor::zeros(DType::kFloat32, {5, 28, 28})}}).shape(), (Shape{5, 784}));
  expect_error([&] { ops::Reshape(x, {-1, -1}); }, {"more than one -1"});
  expect_near(eval(ops::ExpandDims(x, -1)), {6, 1}, {0, 1, 2, 3, 4, 5});
}

TEST(ArrayOps, Transpose) {
  Graph g;
  Output x = ops::Const(g, F({2, 3}, {1, 2, 3, 4, 5, 6}));
  expect_near(eval(ops::Transpose(x)), {3, 2}, {1, 4, 2, 5, 3, 6});
  Output y = ops::Const(g, Tensor::arange(DType::kFloat32, 24).reshaped({2, 3, 4}));
  Tensor t = eval(ops::Transpose(y, {1, 2, 0}));
  ASSERT_EQ(t.shape(), (Shape{3, 4, 2}));
  EXPECT_EQ((t.at<float>({2, 1, 1})), 12 + 2 * 4 + 1);
  expect_error([&] { ops::Transpose(x, {0, 0}); }, {"Transpose", "not a permutation"});
}

TEST(ArrayOps, CastOneHotIdentityStopGradientLikes) {
  Graph g;
  Output x = ops::Const(g, F({3}, {1.7f, -2.2f, 3}));
  Tensor c = eval(ops::Cast(x, DType::kInt32));
  EXPECT_EQ(c.dtype(), DType::kInt32);
  expect_near(c, {3}, {1, -2, 3});
  Output labels = ops::Const(g, Tensor(Shape{4}, std::vector<uint8_t>{0, 2, 1, 7}));
  expect_near(eval(ops::OneHot(labels, 3)), {4, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0});
  expect_near(eval(ops::OneHot(labels, 2, 5, -1, DType::kFloat64)), {4, 2}, {5, -1, -1, -1, -1, 5, -1, -1});
  expect_error([&] { ops::OneHot(x, 3); }, {"OneHot", "int32 or uint8", "float32"});
  expect_near(eval(ops::Identity(x)), {3}, {1.7, -2.2, 3});
  expect_near(eval(ops::StopGradient(x)), {3}, {1.7, -2.2, 3});
  expect_near(eval(ops::ZerosLike(x)), {3}, {0, 0, 0});
  expect_near(eval(ops::OnesLike(x)), {3}, {1, 1, 1});
  expect_near(eval(ops::Size(x, DType::kFloat32)), {}, {3});
}

TEST(RandomOps, RandomUniformLikeIsSeededAndDiffersPerRun) {
  Graph g;
  Output x = ops::Const(g, Tensor::zeros(DType::kFloat32, {1000}));
  Output r = ops::RandomUniformLike(x, 11);
  Session a(g), b(g);
  Tensor a1 = a.run({}, r), a2 = a.run({}, r), b1 = b.run({}, r);
  EXPECT_TRUE(a1.bitwise_equal(b1)) << "same seed, same run number: same numbers";
  EXPECT_FALSE(a1.bitwise_equal(a2)) << "a new draw each run";
  for (float v : a1.flat<float>()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

}  // namespace
}  // namespace horn
