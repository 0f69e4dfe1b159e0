// Tensor arithmetic around a model (ops/eager.h): closed-form values, broadcasting, dtypes,
// and the registered ops' errors.
#include "ops/eager.h"

#include "tests/test_util.h"

namespace horn {
namespace {

using testing::expect_error;
using testing::F;

std::vector<float> values(const Tensor& t) { return {t.flat<float>().begin(), t.flat<float>().end()}; }

TEST(Eager, ScalarArithmeticKeepsTheDtype) {
  const Tensor x = F({2, 2}, {0, 51, 127.5, 255});
  const Tensor scaled = x / 255;
  EXPECT_EQ(scaled.dtype(), DType::kFloat32);
  EXPECT_EQ(values(scaled), (std::vector<float>{0, 0.2f, 0.5f, 1}));
  EXPECT_EQ(values(1 - scaled), (std::vector<float>{1, 0.8f, 0.5f, 0}));
  EXPECT_EQ(values(2 * x + 1), (std::vector<float>{1, 103, 256, 511}));
  EXPECT_EQ(values(-x), (std::vector<float>{-0.0f, -51, -127.5, -255}));
  EXPECT_EQ(values(x - 1), (std::vector<float>{-1, 50, 126.5, 254}));
  EXPECT_EQ(values(10 / F({2}, {4, 5})), (std::vector<float>{2.5, 2}));
  EXPECT_EQ((Tensor(Shape{2}, std::vector<double>{1, 2}) * 0.5).dtype(), DType::kFloat64);
}

TEST(Eager, TensorArithmeticBroadcastsLikeNumPy) {
  const Tensor rows = F({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor bias = F({3}, {10, 20, 30});
  const Tensor sum = rows + bias;
  EXPECT_EQ(sum.shape(), Shape({2, 3}));
  EXPECT_EQ(values(sum), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(values(rows * rows), (std::vector<float>{1, 4, 9, 16, 25, 36}));
  EXPECT_EQ(values(rows / F({2, 1}, {1, 2})), (std::vector<float>{1, 2, 3, 2, 2.5, 3}));
  expect_error([&] { (void)(rows + F({2}, {1, 2})); }, {"Add", "[2,3]", "[2]"});
}

TEST(Eager, ComparisonsArgmaxAndReductions) {
  const Tensor p = F({3, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.2f, 0.3f, 0.3f, 0.3f, 0.4f});
  const Tensor classes = tensor::argmax(p, 1);
  EXPECT_EQ(classes.dtype(), DType::kInt32);
  EXPECT_EQ(classes.shape(), Shape({3}));
  EXPECT_EQ(std::vector<int32_t>(classes.flat<int32_t>().begin(), classes.flat<int32_t>().end()),
            (std::vector<int32_t>{1, 0, 2}));
  const Tensor big = p > 0.35;
  EXPECT_EQ(big.dtype(), DType::kBool);
  EXPECT_EQ(std::vector<float>(values(big.cast(DType::kFloat32))),
            (std::vector<float>{0, 1, 0, 1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(values((p <= 0.2).cast(DType::kFloat32)), (std::vector<float>{1, 0, 1, 0, 1, 0, 0, 0, 0}));
  const Tensor labels(Shape{3}, std::vector<int32_t>{1, 2, 2});
  const Tensor hits = tensor::equal(classes, labels).cast(DType::kFloat32);
  EXPECT_NEAR(tensor::mean(hits).value_as_double(0), 2.0 / 3, 1e-7);
  EXPECT_EQ(values(tensor::sum(p, {0})), (std::vector<float>{0.1f + 0.5f + 0.3f, 0.7f + 0.2f + 0.3f, 0.2f + 0.3f + 0.4f}));
  EXPECT_EQ(values(tensor::max(p, {1}, true)), (std::vector<float>{0.7f, 0.5f, 0.4f}));
  EXPECT_EQ(tensor::max(p, {1}, true).shape(), Shape({3, 1}));
  EXPECT_EQ(tensor::reshape(p, {-1}).shape(), Shape({9}));
  expect_error([&] { tensor::reshape(p, {2, -1}); }, {"Reshape", "9"});
  expect_error([&] { (void)(Tensor() + 1.0); }, {"empty"});
}

}  // namespace
}  // namespace horn
