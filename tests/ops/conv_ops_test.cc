// Convolution, pooling, Pad and Slice against closed-form values and a direct (naive)
// convolution; TensorFlow's "same" padding and tie rules; errors; second derivatives; the
// same bits for any thread count.
#include <bit>
#include <cmath>
#include <string>

#include "autodiff/gradient_checker.h"
#include "autodiff/gradients.h"
#include "core/compiler/compiler.h"
#include "tests/ops/naive_conv.h"
#include "tests/test_util.h"

namespace horn {
namespace {

using testing::eval;
using testing::expect_error;
using testing::expect_near;
using testing::F;

Tensor iota(const Shape& s, double start = 1) {
  Tensor t(DType::kFloat32, s);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = static_cast<float>(start + i);
  return t;
}

TEST(Conv2D, ValidPaddingSumsEachWindow) {
  Graph g;
  Output y = ops::Conv2D(ops::Const(g, iota({1, 3, 3, 1})), ops::Const(g, Tensor::fill(DType::kFloat32, {2, 2, 1, 1}, 1)));
  expect_near(eval(y), {1, 2, 2, 1}, {12, 16, 24, 28});
}

TEST(Conv2D, SamePaddingPutsTheExtraRowAndColumnAtTheBottomRight) {
  Graph g;
  Output y = ops::Conv2D(ops::Const(g, iota({1, 4, 4, 1})), ops::Const(g, Tensor::fill(DType::kFloat32, {2, 2, 1, 1}, 1)),
                         {1, 1}, "same");
  // Windows start at the pixel itself: pad 0 before, 1 after.
  expect_near(eval(y), {1, 4, 4, 1},
              {14, 18, 22, 12, 30, 34, 38, 20, 46, 50, 54, 28, 27, 29, 31, 16});
  // 3x3, stride 2 over 5x5: 3x3 outputs, 2 rows of padding in all, one before.
  Output z = ops::Conv2D(ops::Const(g, iota({1, 5, 5, 1})), ops::Const(g, Tensor::fill(DType::kFloat32, {3, 3, 1, 1}, 1)),
                         {2, 2}, "same");
  expect_near(eval(z), {1, 3, 3, 1}, {16, 33, 28, 69, 117, 87, 76, 123, 88});
}

TEST(Conv2D, ChannelsAndFiltersFollowHwioLayout) {
  Graph g;
  // One pixel, 2 channels; the filter maps channel c to filter f with weight 10 c + f + 1.
  Tensor w(DType::kFloat32, {1, 1, 2, 3});
  for (int c = 0; c < 2; ++c)
    for (int f = 0; f < 3; ++f) w.data<float>()[c * 3 + f] = 10.0f * c + f + 1;
  Output y = ops::Conv2D(ops::Const(g, F({1, 1, 1, 2}, {1, 2})), ops::Const(g, w));
  expect_near(eval(y), {1, 1, 1, 3}, {1 * 1 + 2 * 11, 1 * 2 + 2 * 12, 1 * 3 + 2 * 13});
}

TEST(Conv2D, MatchesADirectConvolutionForStridesDilationsAndPadding) {
  struct Case {
    Shape x, w;
    int sh, sw;
    bool same;
    int dh, dw;
  };
  // Sizes that cross the kernels' row panels (256 output pixels) and filter-gradient
  // chunks (2048), pointwise filters (no im2col) and ordinary ones.
  const std::vector<Case> cases{{{2, 9, 11, 3}, {3, 3, 3, 5}, 1, 1, false, 1, 1}, {{3, 10, 9, 2}, {3, 2, 2, 4}, 2, 3, true, 1, 1},
                                {{1, 12, 12, 2}, {3, 3, 2, 2}, 1, 1, true, 2, 2},  {{2, 20, 17, 4}, {1, 1, 4, 6}, 1, 1, false, 1, 1},
                                {{4, 30, 25, 3}, {5, 5, 3, 7}, 1, 1, true, 1, 1},  {{1, 8, 8, 1}, {8, 8, 1, 2}, 1, 1, false, 1, 1}};
  for (DType dtype : {DType::kFloat32, DType::kFloat64})
    for (const Case& c : cases) {
      Graph g;
      const Tensor x = Tensor::uniform(dtype, c.x, -1, 1, 7), w = Tensor::uniform(dtype, c.w, -1, 1, 8);
      Output y = ops::Conv2D(ops::Const(g, x), ops::Const(g, w), {c.sh, c.sw}, c.same ? "same" : "valid", {c.dh, c.dw});
      const Tensor want = testing::naive_conv(x, w, c.sh, c.sw, c.same, c.dh, c.dw);
      const Tensor got = eval(y);
      ASSERT_EQ(got.shape(), want.shape()) << c.x << " * " << c.w;
      const double tol = dtype == DType::kFloat32 ? 1e-4 : 1e-11;
      for (int64_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got.value_as_double(i), want.value_as_double(i), tol) << c.x << " * " << c.w << " at " << i;
    }
}

TEST(Conv2D, GradientsAreTheSameBitsForAnyThreadCount) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 14, 14, 8}, "x");
  Output w = ops::Const(g, Tensor::uniform(DType::kFloat32, {3, 3, 8, 16}, -1, 1, 2));
  Output y = ops::Relu(ops::Conv2D(x, w, {1, 1}, "same"));
  Output loss = ops::Sum(ops::MaxPool2D(y) * ops::MaxPool2D(y));
  std::vector<Output> fetches{loss};
  for (Output gr : autodiff::gradients({loss}, {x, w})) fetches.push_back(gr);
  const Session::Feeds feeds{{x, Tensor::uniform(DType::kFloat32, {24, 14, 14, 8}, -1, 1, 3)}};
  Session one(g, {.num_threads = 1}), two(g, {.num_threads = 2}), reference(g, {.num_threads = 2, .optimize = false});
  const std::vector<Tensor> a = one.run(feeds, fetches), b = two.run(feeds, fetches), c = reference.run(feeds, fetches);
  const std::string plan = two.plan_summary(feeds, fetches).to_string();
  EXPECT_NE(plan.find("<- Conv2D,Relu"), std::string::npos) << "Relu runs in the convolution's epilogue\n" << plan;
  // The im2col panels are kernel scratch outside the arena: the summary accounts for them.
  // The filter gradient's chunk, 2048 rows x (3 x 3 x 8) taps x 4 bytes, and for a float32
  // product (on oneDNN where it runs) the chunk's dY transposed, 2048 x 16 x 4 bytes, and
  // dW^T, 72 x 16 x 4 bytes.
  EXPECT_NE(plan.find("scratch: 725504 bytes per thread at most (gradients/Conv2D/Conv2DBackpropFilter)"),
            std::string::npos)
      << plan;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "fetch " << i;
    EXPECT_TRUE(a[i].bitwise_equal(c[i])) << "fetch " << i << " compiled vs reference";
  }
}

// The float32 gradient ops (on oneDNN where it runs: the filter gradient transposes dY and
// dW^T in register tiles) against the same ops in float64, on shapes whose pixel counts and
// filter counts are not multiples of the tile (ragged edges), are (whole tiles), and cross
// the filter gradient's 2048-row chunks.
TEST(Conv2D, Float32GradientOpsMatchFloat64) {
  struct Case {
    Shape x, w;
    int stride;
    std::string padding;
  };
  const std::vector<Case> cases{{{12, 14, 14, 8}, {3, 3, 8, 16}, 1, "same"},
                                {{3, 11, 10, 6}, {3, 3, 6, 5}, 2, "valid"},
                                {{5, 20, 25, 40}, {1, 1, 40, 7}, 1, "valid"},
                                {{4, 13, 13, 3}, {2, 2, 3, 35}, 1, "valid"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.x << " * " << c.w);
    Graph g;
    const DType f32 = DType::kFloat32, f64 = DType::kFloat64;
    Output x = ops::Placeholder(g, f32, c.x, "x"), w = ops::Placeholder(g, f32, c.w, "w");
    const Shape ys = ops::Conv2D(x, w, {c.stride, c.stride}, c.padding).shape();
    Output dy = ops::Placeholder(g, f32, ys, "dy");
    auto grads = [&](DType t) {
      auto in = [&](Output v) { return t == f32 ? v : ops::Cast(v, t); };
      return std::vector<Output>{
          ops::Conv2DBackpropInput(in(dy), in(w), c.x, {c.stride, c.stride}, c.padding),
          ops::Conv2DBackpropFilter(in(x), in(dy), c.w, {c.stride, c.stride}, c.padding)};
    };
    const std::vector<Output> single = grads(f32), exact = grads(f64);
    const Session::Feeds feeds{{x, Tensor::uniform(f32, c.x, -1, 1, 1)},
                               {w, Tensor::uniform(f32, c.w, -1, 1, 2)},
                               {dy, Tensor::uniform(f32, ys, -1, 1, 3)}};
    Session one(g, {.num_threads = 1}), two(g, {.num_threads = 2});
    const std::vector<Tensor> a = one.run(feeds, single), b = two.run(feeds, single), r = one.run(feeds, exact);
    for (int i = 0; i < 2; ++i) {
      EXPECT_TRUE(a[i].bitwise_equal(b[i])) << "thread count changed the bits of op " << i;
      EXPECT_LT(testing::relative_error(a[i], r[i]), 1e-5) << "op " << i;
    }
  }
}

TEST(Conv2D, SecondDerivativesMatchFiniteDifferences) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat64, {1, 5, 4, 2}, "x");
  Output w = ops::Placeholder(g, DType::kFloat64, {3, 2, 2, 3}, "w");
  Output y = ops::Sum(ops::Square(ops::Conv2D(x, w, {2, 1}, "same")));
  // d/dx and d/dw of (dy/dx . v): exercises the gradients of both gradient ops.
  const std::vector<Output> grads = autodiff::gradients({y}, {x, w});
  Output v = ops::Const(g, Tensor::uniform(DType::kFloat64, {1, 5, 4, 2}, -1, 1, 5));
  Output u = ops::Const(g, Tensor::uniform(DType::kFloat64, {3, 2, 2, 3}, -1, 1, 6));
  Output hv = ops::Sum(grads[0] * v) + ops::Sum(grads[1] * u);
  const autodiff::GradientCheck r = autodiff::check_gradients(
      hv, {x, w}, {Tensor::uniform(DType::kFloat64, {1, 5, 4, 2}, -1, 1, 1), Tensor::uniform(DType::kFloat64, {3, 2, 2, 3}, -1, 1, 2)});
  EXPECT_LT(r.max_error, 1e-6) << r.to_string();
}

TEST(Conv2D, RefusesMismatchedShapesWithClearErrors) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 28, 28, 1}, "images");
  expect_error([&] { ops::Conv2D(x, ops::Const(g, Tensor::zeros(DType::kFloat32, {3, 3, 2, 8})), {1, 1}, "valid", {1, 1}, "conv"); },
               {"Conv2D 'conv'", "the input has 1 channels but the filter expects 2"});
  expect_error([&] { ops::Conv2D(x, ops::Const(g, Tensor::zeros(DType::kFloat32, {30, 3, 1, 8}))); },
               {"the window of 30 rows does not fit in the input's 28"});
  expect_error([&] { ops::Conv2D(x, ops::Const(g, Tensor::zeros(DType::kFloat32, {3, 3, 1, 8})), {1, 1}, "full"); },
               {"padding must be \"valid\" or \"same\", got \"full\""});
  expect_error([&] { ops::Conv2D(x, ops::Const(g, Tensor::zeros(DType::kFloat32, {3, 3, 1, 8})), {0, 1}); },
               {"strides must be two positive numbers"});
  expect_error([&] { ops::MaxPool2D(ops::Placeholder(g, DType::kFloat32, {2, 28, 28}), {2, 2}); }, {"NHWC input of rank 4"});
}

TEST(MaxPool2D, TakesTheMaximumAndRoutesTheGradientToTheFirstOfTiedMaxima) {
  Graph g;
  Output x = ops::Const(g, F({1, 2, 4, 1}, {1, 5, 7, 7, 5, 2, 7, 3}));
  expect_near(eval(ops::MaxPool2D(x)), {1, 1, 2, 1}, {5, 7});
  // Left window: 5 twice (first at index 1); right window: 7 three times (first at index 2).
  Output dx = ops::MaxPoolGrad(x, ops::Const(g, F({1, 1, 2, 1}, {10, 20})), {2, 2}, {2, 2}, "valid");
  expect_near(eval(dx), {1, 2, 4, 1}, {0, 10, 20, 0, 0, 0, 0, 0});
  // A gradient of -0 arrives as +0 (0 + -0), as when dx is zeroed and added into.
  const Tensor signed_zero = eval(ops::MaxPoolGrad(x, ops::Const(g, F({1, 1, 2, 1}, {-0.0f, 20})), {2, 2}, {2, 2}, "valid"));
  EXPECT_FALSE(std::signbit(signed_zero.data<float>()[1]));
}

// MaxPoolGrad, written directly where windows do not overlap, against zero-then-scatter done
// here by hand: windows with gaps between them (stride > window), rows and columns no window
// covers, "same" windows hanging over the edge, and overlapping windows; 3 images, 1 and 2
// threads, bit for bit.
TEST(MaxPoolGrad, EqualsZeroThenScatterForAnyWindowLayout) {
  struct Layout {
    int64_t k, s;
    const char* padding;
  };
  for (const Layout& l : {Layout{2, 3, "valid"}, Layout{2, 2, "valid"}, Layout{3, 3, "same"}, Layout{2, 2, "same"},
                          Layout{3, 2, "valid"}}) {
    const int64_t h = 7, w = 8, c = 3;
    const Tensor xv = Tensor::normal(DType::kFloat32, {3, h, w, c}, 0, 1, 11);
    const bool same = std::string(l.padding) == "same";
    const int64_t oh = same ? (h + l.s - 1) / l.s : (h - l.k) / l.s + 1, ow = same ? (w + l.s - 1) / l.s : (w - l.k) / l.s + 1;
    const int64_t pad_top = same ? std::max<int64_t>(0, (oh - 1) * l.s + l.k - h) / 2 : 0;
    const int64_t pad_left = same ? std::max<int64_t>(0, (ow - 1) * l.s + l.k - w) / 2 : 0;
    const Tensor dyv = Tensor::normal(DType::kFloat32, {3, oh, ow, c}, 0, 1, 12);
    std::vector<float> want(xv.size(), 0.0f);
    const float* x = xv.data<float>();
    const float* dy = dyv.data<float>();
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t ch = 0; ch < c; ++ch) {
            int64_t best = -1;
            for (int64_t ky = 0; ky < l.k; ++ky)
              for (int64_t kx = 0; kx < l.k; ++kx) {
                const int64_t iy = oy * l.s - pad_top + ky, ix = ox * l.s - pad_left + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const int64_t at = ((n * h + iy) * w + ix) * c + ch;
                if (best < 0 || x[at] > x[best]) best = at;
              }
            want[best] += dy[((n * oh + oy) * ow + ox) * c + ch];
          }
    for (int threads : {1, 2}) {
      Graph g;
      Output dx = ops::MaxPoolGrad(ops::Const(g, xv), ops::Const(g, dyv), {l.k, l.k}, {l.s, l.s}, l.padding);
      const Tensor got = eval(dx, {}, threads);
      ASSERT_EQ(got.shape(), xv.shape());
      for (int64_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(std::bit_cast<uint32_t>(got.data<float>()[i]), std::bit_cast<uint32_t>(want[i]))
            << "k " << l.k << ", stride " << l.s << ", " << l.padding << ", " << threads << " threads, element " << i;
    }
  }
}

TEST(AvgPool2D, SamePaddingAveragesOnlyRealElements) {
  Graph g;
  Output x = ops::Const(g, iota({1, 3, 3, 1}));
  // 2x2 windows, stride 2 over 3x3: the windows at the right and bottom hang over padding.
  expect_near(eval(ops::AvgPool2D(x, {2, 2}, {2, 2}, "same")), {1, 2, 2, 1}, {3, 4.5, 7.5, 9});
  Output dx = ops::AvgPoolGrad(ops::Const(g, F({1, 2, 2, 1}, {4, 2, 2, 1})), {1, 3, 3, 1}, {2, 2}, {2, 2}, "same");
  expect_near(eval(dx), {1, 3, 3, 1}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
}

TEST(PadAndSlice, PadWithZerosAndCutBoxesOut) {
  Graph g;
  Output x = ops::Const(g, iota({2, 2}));
  expect_near(eval(ops::Pad(x, {1, 0, 0, 2})), {3, 4}, {0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0});
  expect_near(eval(ops::Slice(ops::Const(g, iota({3, 4})), {1, 1}, {2, -1})), {2, 3}, {6, 7, 8, 10, 11, 12});
  expect_error([&] { ops::Slice(x, {1, 0}, {2, 1}); }, {"does not fit in [2,2]"});
}

}  // namespace
}  // namespace horn
