// MatMul with bfloat16 inputs: a float32 product, float32 accumulation, every transpose
// combination, bitwise the same for any thread count and compiled or not, and within
// bfloat16 rounding of the float32 product.
#include <cmath>

#include "autodiff/gradients.h"
#include "tests/test_util.h"

namespace horn {
namespace {

constexpr DType bf16 = DType::kBFloat16, f32 = DType::kFloat32;

struct Product {
  Graph g;
  Output a, b, c;
  Product(const Shape& sa, const Shape& sb, bool ta, bool tb) {
    a = ops::Placeholder(g, f32, sa, "a");
    b = ops::Placeholder(g, f32, sb, "b");
    c = ops::MatMul(ops::Cast(a, bf16), ops::Cast(b, bf16), ta, tb, "c");
  }
};

// The float64 product of the bfloat16-rounded inputs.
Tensor reference(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const Tensor ra = a.cast(bf16).cast(DType::kFloat64), rb = b.cast(bf16).cast(DType::kFloat64);
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1), n = tb ? b.dim(0) : b.dim(1);
  Tensor c(DType::kFloat64, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += (ta ? ra.at<double>({p, i}) : ra.at<double>({i, p})) * (tb ? rb.at<double>({j, p}) : rb.at<double>({p, j}));
      c.at<double>({i, j}) = s;
    }
  return c;
}

using testing::relative_error;

TEST(MatMulBFloat16, GivesFloat32WithinFloat32AccumulationOfTheRoundedInputs) {
  const int64_t m = 300, k = 257, n = 130;  // big enough for parallel panels, ragged edges
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::string(ta ? "A^T" : "A") + " x " + (tb ? "B^T" : "B"));
      const Shape sa = ta ? Shape{k, m} : Shape{m, k}, sb = tb ? Shape{n, k} : Shape{k, n};
      Product p(sa, sb, ta, tb);
      EXPECT_EQ(p.c.dtype(), f32);
      EXPECT_EQ(p.c.shape(), (Shape{m, n}));
      const Tensor a = Tensor::uniform(f32, sa, -1, 1, 1), b = Tensor::uniform(f32, sb, -1, 1, 2);
      const Session::Feeds feeds{{p.a, a}, {p.b, b}};
      Session one(p.g, {.num_threads = 1}), two(p.g, {.num_threads = 2}), plain(p.g, {.optimize = false});
      const Tensor c = one.run(feeds, p.c);
      EXPECT_TRUE(c.bitwise_equal(two.run(feeds, p.c))) << "thread count changed the bits";
      EXPECT_TRUE(c.bitwise_equal(plain.run(feeds, p.c))) << "compiled differs from the reference interpreter";
      // Products of bfloat16 values are exact in float32; only the float32 sums round.
      EXPECT_LT(relative_error(c, reference(a, b, ta, tb)), 1e-5);
      // Against the unrounded float32 inputs: bfloat16's 8-bit mantissa (Keras tolerance).
      Graph g;
      Output fa = ops::Placeholder(g, f32, sa), fb = ops::Placeholder(g, f32, sb);
      const Tensor exact = testing::eval(ops::MatMul(fa, fb, ta, tb), {{fa, a}, {fb, b}});
      EXPECT_LT(relative_error(c, exact), 1e-2);
    }
}

TEST(MatMulBFloat16, FusedEpilogueMatchesTheUnfusedGraph) {
  Product p({64, 200}, {200, 300}, false, false);
  Graph& g = p.g;
  Output bias = ops::Placeholder(g, f32, {300}, "bias");
  Output y = ops::Relu(p.c + bias);
  const Session::Feeds feeds{{p.a, Tensor::uniform(f32, {64, 200}, -1, 1, 3)},
                             {p.b, Tensor::uniform(f32, {200, 300}, -1, 1, 4)},
                             {bias, Tensor::uniform(f32, {300}, -1, 1, 5)}};
  Session compiled(g), plain(g, {.optimize = false});
  EXPECT_TRUE(compiled.run(feeds, y).bitwise_equal(plain.run(feeds, y)));
}

TEST(MatMulBFloat16, GradientsHaveTheVariablesDtypeAndMatchFloat32WithinBFloat16) {
  Graph g;
  Output x = ops::Placeholder(g, f32, {8, 5}, "x");
  Output w = ops::Variable(g, Tensor::uniform(f32, {5, 3}, -1, 1, 7), "w");
  Output mixed = ops::Sum(ops::Square(ops::MatMul(ops::Cast(x, bf16), ops::Cast(w, bf16))));
  Output exact = ops::Sum(ops::Square(ops::MatMul(x, w)));
  std::vector<Output> dm = autodiff::gradients({mixed}, {x, w});
  std::vector<Output> de = autodiff::gradients({exact}, {x, w});
  ASSERT_EQ(dm[0].dtype(), f32);
  ASSERT_EQ(dm[1].dtype(), f32);
  Session s(g);
  s.initialize_variables();
  const std::vector<Tensor> r = s.run({{x, Tensor::uniform(f32, {8, 5}, -1, 1, 8)}}, {dm[0], dm[1], de[0], de[1]});
  EXPECT_LT(relative_error(r[0], r[2]), 2e-2);
  EXPECT_LT(relative_error(r[1], r[3]), 2e-2);
}

}  // namespace
}  // namespace horn
