// Dimension products from hostile data: overflow is an Error, never undefined behaviour.
#include <limits>

#include "tests/test_util.h"

namespace horn {
namespace {
using testing::expect_error;

TEST(ShapeOverflow, CheckedNumElementsNamesTheSourceOnOverflowOrNegativeDims) {
  EXPECT_EQ(checked_num_elements({60000, 28, 28}, "f"), 47040000);
  EXPECT_EQ(checked_num_elements({}, "f"), 1);
  EXPECT_EQ(checked_num_elements({0, std::numeric_limits<int64_t>::max()}, "f"), 0);
  expect_error([] { checked_num_elements({4294967295, 4294967295, 4294967295}, "MNIST: 'x.idx'"); },
               {"MNIST: 'x.idx'", "[4294967295,4294967295,4294967295]", "int64"});
  expect_error([] { checked_num_elements({3, -2}, "model file 'm.horn'"); },
               {"model file 'm.horn'", "dimension -2", "negative"});
}

TEST(ShapeOverflow, NumElementsFailsClearlyInsteadOfWrapping) {
  EXPECT_EQ((Shape{2, 3}).num_elements(), 6);
  EXPECT_EQ((Shape{-1, 3}).num_elements(), Shape::kUnknown);
  expect_error([] { (Shape{int64_t{1} << 32, int64_t{1} << 32}).num_elements(); }, {"[4294967296,4294967296]"});
  expect_error([] { Tensor(DType::kUInt8, Shape{int64_t{1} << 40, int64_t{1} << 40}); }, {"int64"});
}

}  // namespace
}  // namespace horn
