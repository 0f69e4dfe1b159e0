// Algebraic simplification: identities (x*1, x+0, x-0, x/1, neg(neg(x)), inverse transposes,
// reshapes, broadcasts and casts to the same shape, StopGradient) are bypassed, but never one
// that changes a shape (a broadcast) or a value.
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using testing::listing;

Tensor uniform(const Shape& s, uint64_t seed) { return Tensor::uniform(DType::kFloat32, s, -2, 2, seed); }

TEST(AlgebraicSimplification, RemovesEveryIdentityInAChain) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3}, "x");
  Output y = ops::Transpose(ops::Transpose(ops::Neg(ops::Neg(x * 1.0 + 0.0)))) / 1.0;
  Output z = ops::Reshape(ops::StopGradient(y), {2, 3}, "z");
  const Session::Feeds feeds{{x, uniform({2, 3}, 1)}};
  compiler::CompiledGraph c = testing::prepare(g, {z}, {}, feeds);
  EXPECT_EQ(c.num_live(), 13);
  EXPECT_TRUE(compiler::make_algebraic_simplification()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nfetch x\n") << "z simplifies to x itself";
  testing::expect_same_results(g, {z}, {}, feeds, c);
  EXPECT_FALSE(compiler::make_algebraic_simplification()->run(c)) << "a second run finds nothing";
}

TEST(AlgebraicSimplification, IdentityElementsOnEitherSide) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {3}, "x");
  Output zero = ops::Scalar(g, 0, DType::kFloat32, "zero"), one = ops::Scalar(g, 1, DType::kFloat32, "one");
  Output a = ops::Add(zero, x, "a"), m = ops::Mul(one, a, "m"), s = ops::Sub(m, zero, "s");
  Output y = ops::Exp(s, "y");
  const Session::Feeds feeds{{x, uniform({3}, 2)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_algebraic_simplification()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\ny = Exp(x)\nfetch y\n");
  testing::expect_same_results(g, {y}, {}, feeds, c);
}

// Adding a zero of a larger shape broadcasts x: the result is not x.
TEST(AlgebraicSimplification, KeepsAnIdentityElementThatBroadcasts) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3}, "x");
  Output zeros = ops::Const(g, Tensor::zeros(DType::kFloat32, {4, 2, 3}), "zeros");
  Output grown = ops::Add(x, zeros, "grown");
  const Session::Feeds feeds{{x, uniform({2, 3}, 3)}};
  compiler::CompiledGraph c = testing::prepare(g, {grown}, {}, feeds);
  const std::string before = listing(c);
  EXPECT_EQ(before, "x = Placeholder()\nzeros = Const([4,2,3])\ngrown = Add(x, zeros)\nfetch grown\n");
  EXPECT_FALSE(compiler::make_algebraic_simplification()->run(c));
  EXPECT_EQ(listing(c), before);
}

// Not identities: a constant that is one only in some elements, x - 0 written 0 - x, a
// division of one by x, two transposes that do not undo each other, a cast to another dtype.
TEST(AlgebraicSimplification, KeepsLookalikesThatChangeValues) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3, 4}, "x");
  Output almost_one = ops::Const(g, Tensor(Shape{4}, std::vector<float>{1, 1, 1, 2}), "almost_one");
  Output zero = ops::Scalar(g, 0, DType::kFloat32, "zero"), one = ops::Scalar(g, 1, DType::kFloat32, "one");
  Output a = ops::Mul(x, almost_one, "a");
  Output b = ops::Sub(zero, a, "b");
  Output c2 = ops::Div(one, b, "c");
  Output t = ops::Transpose(ops::Transpose(c2, {1, 0, 2}, "t1"), {0, 2, 1}, "t2");
  Output d = ops::Cast(t, DType::kFloat64, "d");
  const Session::Feeds feeds{{x, uniform({2, 3, 4}, 4)}};
  compiler::CompiledGraph c = testing::prepare(g, {d}, {}, feeds);
  const std::string before = listing(c);
  EXPECT_FALSE(compiler::make_algebraic_simplification()->run(c));
  EXPECT_EQ(listing(c), before);
  EXPECT_EQ(c.num_live(), 10);
}

// Reshape back to the same shape, a transpose pair with an explicit permutation, and a
// BroadcastLike to the operand's own shape all go; a Reshape to another shape stays.
TEST(AlgebraicSimplification, RemovesShapeIdentitiesButNotRealReshapes) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3, 4}, "x");
  Output p = ops::Transpose(ops::Transpose(x, {1, 2, 0}, "t1"), {2, 0, 1}, "t2");  // inverse permutations
  Output b = ops::BroadcastLike(p, x, "b");
  Output r = ops::Reshape(b, {6, 4}, "r");
  Output y = ops::Tanh(r, "y");
  const Session::Feeds feeds{{x, uniform({2, 3, 4}, 5)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_algebraic_simplification()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nr = Reshape(x)\ny = Tanh(r)\nfetch y\n");
  testing::expect_same_results(g, {y}, {}, feeds, c);
}

}  // namespace
}  // namespace horn
