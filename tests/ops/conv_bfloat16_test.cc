// Conv2D and its two gradient ops with bfloat16 operands: a float32 result with float32
// accumulation, against a direct convolution of the rounded operands; the same bits for any
// thread count and compiled or not; gradients within bfloat16 rounding of float32's.
#include <cmath>

#include "autodiff/gradients.h"
#include "tests/ops/naive_conv.h"
#include "tests/test_util.h"

namespace horn {
namespace {

constexpr DType bf16 = DType::kBFloat16, f32 = DType::kFloat32;

using testing::relative_error;

struct Case {
  Shape x, w;
  int sh, sw;
  bool same;
  int dh, dw;
};

TEST(Conv2DBFloat16, GivesFloat32WithinFloat32AccumulationOfTheRoundedOperands) {
  // Fewer taps than the direct path's limit (3x3x1), pointwise, strided, dilated, and sizes
  // that cross the forward row panels.
  const std::vector<Case> cases{{{2, 9, 11, 1}, {3, 3, 1, 5}, 1, 1, false, 1, 1},
                                {{3, 10, 9, 8}, {3, 2, 8, 4}, 2, 3, true, 1, 1},
                                {{1, 12, 12, 6}, {3, 3, 6, 9}, 1, 1, true, 2, 2},
                                {{2, 20, 17, 40}, {1, 1, 40, 6}, 1, 1, false, 1, 1},
                                {{4, 30, 25, 8}, {3, 3, 8, 16}, 1, 1, true, 1, 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.x << " * " << c.w);
    Graph g;
    Output x = ops::Placeholder(g, f32, c.x, "x"), w = ops::Placeholder(g, f32, c.w, "w");
    Output y = ops::Conv2D(ops::Cast(x, bf16), ops::Cast(w, bf16), {c.sh, c.sw}, c.same ? "same" : "valid",
                           {c.dh, c.dw});
    EXPECT_EQ(y.dtype(), f32);
    const Tensor xv = Tensor::uniform(f32, c.x, -1, 1, 7), wv = Tensor::uniform(f32, c.w, -1, 1, 8);
    const Session::Feeds feeds{{x, xv}, {w, wv}};
    Session one(g, {.num_threads = 1}), two(g, {.num_threads = 2}), plain(g, {.optimize = false});
    const Tensor got = one.run(feeds, y);
    EXPECT_TRUE(got.bitwise_equal(two.run(feeds, y))) << "thread count changed the bits";
    EXPECT_TRUE(got.bitwise_equal(plain.run(feeds, y))) << "compiled differs from the reference interpreter";
    const Tensor rounded = testing::naive_conv(xv.cast(bf16), wv.cast(bf16), c.sh, c.sw, c.same, c.dh, c.dw);
    ASSERT_EQ(got.shape(), rounded.shape());
    EXPECT_LT(relative_error(got, rounded), 1e-5);
    const Tensor exact = testing::naive_conv(xv, wv, c.sh, c.sw, c.same, c.dh, c.dw);
    EXPECT_LT(relative_error(got, exact), 1e-2) << "bfloat16 operands: ~3 significant digits";
  }
}

TEST(Conv2DBFloat16, RefusesMixedOperandsWithAClearError) {
  Graph g;
  Output x = ops::Placeholder(g, bf16, {1, 4, 4, 2}), w = ops::Placeholder(g, f32, {2, 2, 2, 3});
  testing::expect_error([&] { ops::Conv2D(x, w); },
                        {"Conv2D", "inputs must both be bfloat16 (for a float32 product) or both float", "Cast"});
}

// The gradient ops on their own, at sizes that take oneDNN's path (more than 32 taps; more
// than one filter-gradient chunk of 2048 rows) and a pointwise one: float32 accumulation of
// the products of the rounded operands, checked against float64 on the same values.
TEST(Conv2DBFloat16, GradientOpsGiveFloat32WithinFloat32AccumulationOfTheRoundedOperands) {
  const std::vector<Case> cases{{{12, 14, 14, 8}, {3, 3, 8, 16}, 1, 1, true, 1, 1},
                                {{3, 11, 10, 6}, {3, 3, 6, 5}, 2, 2, false, 1, 1},
                                {{5, 20, 25, 40}, {1, 1, 40, 7}, 1, 1, false, 1, 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.x << " * " << c.w);
    const std::string padding = c.same ? "same" : "valid";
    Graph g;
    Output x = ops::Placeholder(g, f32, c.x, "x"), w = ops::Placeholder(g, f32, c.w, "w");
    const Shape ys = ops::Conv2D(x, w, {c.sh, c.sw}, padding).shape();
    Output dy = ops::Placeholder(g, f32, ys, "dy");
    auto both = [&](DType t) {
      auto in = [&](Output v) { return t == f32 ? ops::Cast(v, bf16) : ops::Cast(ops::Cast(v, bf16), t); };
      return std::vector<Output>{
          ops::Conv2DBackpropInput(in(dy), in(w), c.x, {c.sh, c.sw}, padding),
          ops::Conv2DBackpropFilter(in(x), in(dy), c.w, {c.sh, c.sw}, padding)};
    };
    const std::vector<Output> mixed = both(f32), exact = both(DType::kFloat64);
    EXPECT_EQ(mixed[0].dtype(), f32);
    EXPECT_EQ(mixed[1].dtype(), f32);
    const Session::Feeds feeds{{x, Tensor::uniform(f32, c.x, -1, 1, 1)},
                               {w, Tensor::uniform(f32, c.w, -1, 1, 2)},
                               {dy, Tensor::uniform(f32, ys, -1, 1, 3)}};
    Session one(g, {.num_threads = 1}), two(g, {.num_threads = 2});
    const std::vector<Tensor> a = one.run(feeds, mixed), b = two.run(feeds, mixed), r = one.run(feeds, exact);
    for (int i = 0; i < 2; ++i) {
      EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "thread count changed the bits of op " << i;
      EXPECT_LT(relative_error(a[i], r[i]), 1e-5) << "op " << i;
    }
  }
}

// A layer as mixed_bfloat16 builds it: float32 variables cast to bfloat16, bias and ReLU in
// float32 (the compiler fuses them into the convolution's epilogue, and ReLU's gradient into
// the input gradient's), two layers so that the input gradient is needed too.
struct Net {
  Graph g;
  Output x, w1, w2, b, loss;
  std::vector<Output> grads;
  explicit Net(DType compute) {
    x = ops::Placeholder(g, f32, {-1, 14, 14, 8}, "x");
    w1 = ops::Variable(g, Tensor::uniform(f32, {3, 3, 8, 16}, -0.3, 0.3, 2), "w1");
    w2 = ops::Variable(g, Tensor::uniform(f32, {3, 3, 16, 8}, -0.3, 0.3, 3), "w2");
    b = ops::Variable(g, Tensor::uniform(f32, {16}, -0.1, 0.1, 4), "b");
    auto in = [&](Output t) { return compute == f32 ? t : ops::Cast(t, compute); };
    Output h = ops::Relu(ops::Conv2D(in(x), in(w1), {1, 1}, "same") + b);
    Output y = ops::Conv2D(in(h), in(w2), {2, 2}, "same");
    loss = ops::Sum(ops::Square(y));
    grads = autodiff::gradients({loss}, {x, w1, w2, b});
  }
  std::vector<Output> fetches() const {
    std::vector<Output> f{loss};
    f.insert(f.end(), grads.begin(), grads.end());
    return f;
  }
};

// 24 images of 14x14: 4704 output pixels, more than one filter-gradient chunk (2048 rows).
TEST(Conv2DBFloat16, GradientsAreTheSameBitsForAnyThreadCountAndMatchFloat32) {
  const Tensor xv = Tensor::uniform(f32, {24, 14, 14, 8}, -1, 1, 5);
  Net mixed(bf16), plain(f32);
  for (size_t i = 1; i < mixed.grads.size(); ++i) EXPECT_EQ(mixed.grads[i].dtype(), f32) << "gradient " << i;
  const Session::Feeds feeds{{mixed.x, xv}};
  Session one(mixed.g, {.num_threads = 1}), two(mixed.g, {.num_threads = 2}),
      reference(mixed.g, {.num_threads = 2, .optimize = false});
  for (Session* s : {&one, &two, &reference}) s->initialize_variables();
  const std::vector<Tensor> a = one.run(feeds, mixed.fetches()), b = two.run(feeds, mixed.fetches()),
                            c = reference.run(feeds, mixed.fetches());
  const std::string plan = two.plan_summary(feeds, mixed.fetches()).to_string();
  EXPECT_NE(plan.find("<- Conv2D,Add,Relu"), std::string::npos) << "bias and ReLU in the epilogue\n" << plan;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "fetch " << i;
    EXPECT_TRUE(a[i].bitwise_equal(c[i])) << "fetch " << i << " compiled vs reference";
  }
  Session s32(plain.g);
  s32.initialize_variables();
  const std::vector<Tensor> r = s32.run({{plain.x, xv}}, plain.fetches());
  // Against float32: the loss within bfloat16's ~3 digits; the gradients looser, because a
  // ReLU whose input is near 0 may open under one dtype and stay shut under the other, and
  // the input gradient passes two rounded products after that.
  EXPECT_LT(relative_error(a[0], r[0]), 2e-2) << "loss";
  for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(relative_error(a[i], r[i]), 0.15) << "gradient " << i;
}

}  // namespace
}  // namespace horn
