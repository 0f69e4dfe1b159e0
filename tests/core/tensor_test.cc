#include <bit>
#include <cstdint>
#include <limits>

#include "core/bfloat16.h"
#include "core/parallel.h"
#include "tests/test_util.h"

namespace horn {
namespace {
using testing::expect_error;

TEST(Tensor, FromValuesAndAccess) {
  Tensor t(Shape{2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.size(), 6);
  EXPECT_EQ((t.at<float>({1, 2})), 6.0f);
  t.at<float>({0, 1}) = 9;
  EXPECT_EQ(t.data<float>()[1], 9.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u) << "storage is 64-byte aligned";
}

TEST(Tensor, Errors) {
  expect_error([] { Tensor(Shape{2, 2}, std::vector<float>{1, 2, 3}); }, {"[2,2]", "4 elements", "3 values"});
  Tensor t = Tensor::zeros(DType::kFloat32, {2, 2});
  expect_error([&] { t.data<double>(); }, {"float32", "float64"});
  expect_error([&] { t.at<float>({2, 0}); }, {"out of range"});
  expect_error([&] { t.reshaped({3}); }, {"cannot view"});
  expect_error([] { Tensor(DType::kFloat32, Shape{-1, 3}); }, {"unknown"});
}

TEST(Tensor, SharedStorageAndCopy) {
  Tensor a = Tensor::ones(DType::kFloat32, {4});
  Tensor b = a;
  Tensor c = a.copy();
  b.data<float>()[0] = 5;
  EXPECT_EQ(a.data<float>()[0], 5.0f);
  EXPECT_EQ(c.data<float>()[0], 1.0f);
  EXPECT_TRUE(a.shares_storage_with(b));
  EXPECT_FALSE(a.shares_storage_with(c));
}

TEST(Tensor, Factories) {
  testing::expect_near(Tensor::arange(DType::kInt32, 4), {4}, {0, 1, 2, 3});
  testing::expect_near(Tensor::fill(DType::kFloat64, {2}, 2.5), {2}, {2.5, 2.5});
  Tensor u1 = Tensor::uniform(DType::kFloat32, {1000}, -2, 3, 42);
  Tensor u2 = Tensor::uniform(DType::kFloat32, {1000}, -2, 3, 42);
  Tensor u3 = Tensor::uniform(DType::kFloat32, {1000}, -2, 3, 43);
  EXPECT_TRUE(u1.bitwise_equal(u2)) << "same seed, same values";
  EXPECT_FALSE(u1.bitwise_equal(u3));
  double sum = 0;
  for (float v : u1.flat<float>()) {
    EXPECT_GE(v, -2.0f);
    EXPECT_LT(v, 3.0f);
    sum += v;
  }
  EXPECT_NEAR(sum / 1000, 0.5, 0.15);
  Tensor n = Tensor::normal(DType::kFloat64, {20000}, 1.0, 2.0, 7);
  double mean = 0, sq = 0;
  for (double v : n.flat<double>()) mean += v;
  mean /= n.size();
  for (double v : n.flat<double>()) sq += (v - mean) * (v - mean);
  EXPECT_NEAR(mean, 1.0, 0.05);
  EXPECT_NEAR(std::sqrt(sq / n.size()), 2.0, 0.05);
}

// TensorFlow's truncated_normal: nothing beyond two standard deviations, the truncated
// distribution's spread (0.8796 stddev), a seeded stream.
TEST(Tensor, TruncatedNormal) {
  Tensor t = Tensor::truncated_normal(DType::kFloat64, {20000}, 1.0, 0.1, 3);
  EXPECT_TRUE(t.bitwise_equal(Tensor::truncated_normal(DType::kFloat64, {20000}, 1.0, 0.1, 3)));
  double mean = 0, sq = 0;
  for (double v : t.flat<double>()) {
    ASSERT_LE(std::abs(v - 1.0), 0.2 + 1e-12);
    mean += v;
  }
  mean /= t.size();
  for (double v : t.flat<double>()) sq += (v - mean) * (v - mean);
  EXPECT_NEAR(mean, 1.0, 0.005);
  EXPECT_NEAR(std::sqrt(sq / t.size()), 0.1 * 0.87962566103423978, 0.003);
  EXPECT_EQ(Tensor::truncated_normal(DType::kFloat32, {2, 3}, 0, 1, 1).dtype(), DType::kFloat32);
}

TEST(Tensor, RowsAndCast) {
  Tensor t(Shape{3, 2}, std::vector<int32_t>{0, 1, 2, 3, 4, 5});
  testing::expect_near(t.slice_rows(1, 3), {2, 2}, {2, 3, 4, 5});
  std::vector<int64_t> rows{2, 0};
  testing::expect_near(t.gather_rows(rows), {2, 2}, {4, 5, 0, 1});
  Tensor f = t.cast(DType::kFloat32);
  EXPECT_EQ(f.dtype(), DType::kFloat32);
  EXPECT_EQ(f.data<float>()[5], 5.0f);
  expect_error([&] { t.slice_rows(2, 4); }, {"out of range"});
  Tensor empty = t.slice_rows(1, 1);
  EXPECT_EQ(empty.size(), 0);
}

// Large casts run in parallel blocks: every value as the one-at-a-time conversion gives it,
// across block boundaries and a ragged end, for the mixed-precision cast and the generic one.
TEST(Tensor, LargeCastsMatchElementByElement) {
  const int64_t n = 3 * kElementwiseBlock + 77;
  Tensor x = Tensor::uniform(DType::kFloat32, {n}, -1e3, 1e3, 7);
  x.data<float>()[1] = std::numeric_limits<float>::quiet_NaN();
  x.data<float>()[kElementwiseBlock] = 1e-40f;  // subnormal
  const Tensor b = x.cast(DType::kBFloat16);
  const Tensor d = x.cast(DType::kFloat64);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(std::bit_cast<uint16_t>(b.data<bfloat16>()[i]), bfloat16_bits(x.data<float>()[i])) << i;
    if (i != 1) {  // NaN != NaN
      ASSERT_EQ(d.data<double>()[i], static_cast<double>(x.data<float>()[i])) << i;
    }
  }
  Tensor wrong(DType::kBFloat16, {n - 1});
  expect_error([&] { x.cast_into(wrong); }, {"cast_into", "differs"});
}

// Tensors of 16 MB and more sit on whole huge pages: they still hold exactly their values
// and gather the right rows (with the rows ahead prefetched).
TEST(Tensor, HugeBuffersGatherRows) {
  const int64_t rows = 6000, cols = 784;  // 18.8 MB of float
  Tensor x = Tensor::uniform(DType::kFloat32, {rows, cols}, 0, 1, 3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x.raw_data()) % 64, 0u);
  std::vector<int64_t> pick{5999, 0, 17, 4242, 17, 1, 2, 3, 4, 5};
  const Tensor g = x.gather_rows(pick);
  ASSERT_EQ(g.shape(), Shape({10, cols}));
  for (size_t r = 0; r < pick.size(); ++r)
    for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(g.at<float>({int64_t(r), c}), x.at<float>({pick[r], c}));
  std::vector<int64_t> bad{0, rows};
  expect_error([&] { x.gather_rows(bad); }, {"gather_rows", "out of range"});
}

TEST(Tensor, PrintsLikeNumPy) {
  Tensor t(Shape{2, 2}, std::vector<float>{1, 2, 3, 4.5});
  EXPECT_EQ(t.to_string(), "[[1, 2],\n [3, 4.5]]");
  EXPECT_EQ(Tensor::scalar(3.0f).to_string(), "3");
  EXPECT_EQ(Tensor::arange(DType::kInt32, 10).to_string(), "[0, 1, 2, ..., 7, 8, 9]");
}

}  // namespace
}  // namespace horn
