// PReLU (issue 15): closed-form outputs, a hand-computed SGD step on its slopes, shared axes,
// save and load, errors.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;
using namespace kw;  // NOLINT

using testing::temp_path;

TEST(PReLU, SharedAxesGiveOneSlopePerChannel) {
  Sequential m({PReLU(input_shape = {2, 3}, shared_axes = {1})});
  m.build();
  ASSERT_EQ(m.get_weights()[0].shape(), Shape({1, 3}));
  EXPECT_EQ(m.get_weights()[0].data<float>()[2], 0.0f);  // zeros: starts as a ReLU
  m.set_weights({Tensor(Shape{1, 3}, std::vector<float>{0.1f, 0.2f, 0.3f})});
  const Tensor x(Shape{1, 2, 3}, std::vector<float>{-1, 2, -3, 4, -5, 6});
  testing::expect_near(m.predict(x), {1, 2, 3}, {-0.1, 2, -0.9, 4, -1.0, 6});

  const std::string path = temp_path("prelu.horn");
  m.save(path);
  Sequential again = load_model(path);
  EXPECT_EQ(again.layers()[0]->config().at("shared_axes"), "1");
  EXPECT_TRUE(again.predict(x).bitwise_equal(m.predict(x)));
}

// alpha = 0, x = (-1, 2), y = (1, 0): prediction (0, 2), mse 2.5, dL/dprediction = (-1, 2),
// dL/dalpha = dL/dprediction * min(x, 0) = (1, 0); SGD(0.1) makes alpha (-0.1, 0).
TEST(PReLU, SlopesLearnByGradient) {
  Sequential m({PReLU(input_shape = {2})});
  m.compile(loss = "mse", optimizer = optimizers::SGD(0.1));
  const Tensor x(Shape{1, 2}, std::vector<float>{-1, 2}), y(Shape{1, 2}, std::vector<float>{1, 0});
  EXPECT_FLOAT_EQ(static_cast<float>(m.train_on_batch(x, y)[0]), 2.5f);
  testing::expect_near(m.get_weights()[0], {2}, {-0.1, 0});
}

TEST(PReLU, BadAxesAreRefused) {
  expect_error([] { PReLU(shared_axes = {0}); }, {"PReLU", "shared_axes", "from 1", "0"});
  Sequential m({PReLU(input_shape = {4}, shared_axes = {2})});
  expect_error([&] { m.build(); }, {"PReLU", "shared axis 2", "[batch]+[4]"});
}

}  // namespace
}  // namespace horn::keras
