// Common-subexpression elimination: nodes with the same op, attributes and inputs (small
// constants: the same value) become one; random, stateful and fed nodes never merge.
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using testing::count_ops;
using testing::F;
using testing::listing;

TEST(CommonSubexpressionElimination, MergesSameOpsButNotRandomOnes) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4}, "x");
  Output a = ops::Exp(x, "a"), b = ops::Exp(x, "b");
  // The same seed: merged, the two would draw the same numbers instead of two streams.
  Output r1 = ops::RandomUniformLike(x, 1, "r1"), r2 = ops::RandomUniformLike(x, 1, "r2");
  Output y = ops::AddN({a, b, r1, r2}, "y");
  const Session::Feeds feeds{{x, F({4}, {0, 1, 2, 3})}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_common_subexpression_elimination()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\na = Exp(x)\nr1 = RandomUniformLike(x)\nr2 = RandomUniformLike(x)\n"
                        "y = AddN(a, a, r1, r2)\nfetch y\n");
  EXPECT_EQ(count_ops(c, "RandomUniformLike"), 2);
  testing::expect_same_results(g, {y}, {}, feeds, c, /*steps=*/2);
  EXPECT_FALSE(compiler::make_common_subexpression_elimination()->run(c)) << "a second run finds nothing";
}

// Nodes are visited in topological order, so once two inputs merge their consumers match.
TEST(CommonSubexpressionElimination, MergesWholeDuplicateChainsInOneRun) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3}, "x");
  Output two1 = ops::Scalar(g, 2, DType::kFloat32, "two1"), two2 = ops::Scalar(g, 2, DType::kFloat32, "two2");
  Output p = ops::Sum(ops::Tanh(ops::Mul(x, two1, "m1"), "t1"), {1}, false, "s1");
  Output q = ops::Sum(ops::Tanh(ops::Mul(x, two2, "m2"), "t2"), {1}, false, "s2");
  Output y = ops::Sub(p, q, "y");
  const Session::Feeds feeds{{x, Tensor::uniform(DType::kFloat32, {2, 3}, -1, 1, 1)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_common_subexpression_elimination()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\ntwo1 = Const(2)\nm1 = Mul(x, two1)\nt1 = Tanh(m1)\ns1 = Sum(t1)\n"
                        "y = Sub(s1, s1)\nfetch y\n")
      << "constants equal by value merge too";
  testing::expect_same_results(g, {y}, {}, feeds, c);
}

// Differences that matter: an attribute (the axes), the order of inputs, the value of a
// constant, a constant too large to compare, separate feeds, separate variables.
TEST(CommonSubexpressionElimination, KeepsNodesThatDifferOrHaveState) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {3, 3}, "x");
  Output x2 = ops::Placeholder(g, DType::kFloat32, {3, 3}, "x2");
  Output rows = ops::Sum(x, {0}, false, "rows"), cols = ops::Sum(x, {1}, false, "cols");
  Output d1 = ops::Sub(x, x2, "d1"), d2 = ops::Sub(x2, x, "d2");
  Output h1 = ops::Scalar(g, 0.5, DType::kFloat32, "h1"), h2 = ops::Scalar(g, 0.25, DType::kFloat32, "h2");
  Output big1 = ops::Const(g, Tensor::ones(DType::kFloat32, {65}), "big1");
  Output big2 = ops::Const(g, Tensor::ones(DType::kFloat32, {65}), "big2");
  Output v1 = ops::Variable(g, F({3}, {1, 2, 3}), "v1"), v2 = ops::Variable(g, F({3}, {1, 2, 3}), "v2");
  Output y = ops::AddN({rows * h1 + cols * h2, ops::Sum(d1 + d2, {0}), ops::Sum(big1 + big2) * v2, v1}, "y");
  const Session::Feeds feeds{{x, Tensor::uniform(DType::kFloat32, {3, 3}, -1, 1, 2)},
                             {x2, Tensor::uniform(DType::kFloat32, {3, 3}, -1, 1, 3)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  const std::string before = listing(c);
  EXPECT_FALSE(compiler::make_common_subexpression_elimination()->run(c));
  EXPECT_EQ(listing(c), before);
  testing::expect_same_results(g, {y}, {}, feeds, c, /*steps=*/2);
}

}  // namespace
}  // namespace horn
