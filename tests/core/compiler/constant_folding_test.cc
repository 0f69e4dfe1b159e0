// Constant folding: nodes whose inputs are all constants (or that need only shapes, which
// specialisation made known) are evaluated once with the real kernels, up to a size cap;
// stateful and random nodes, and nodes with control inputs, never are.
#include <cmath>

#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using testing::F;
using testing::listing;

TEST(ConstantFolding, EvaluatesConstantsAndShapeOnlyOps) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 2}, "x");
  Output k = ops::Exp(ops::Const(g, F({2}, {0, 1}), "c"), "k");
  Output y = ops::Add(ops::Mul(x, k, "xk"), ops::Size(x, DType::kFloat32, "size"), "y");
  const Session::Feeds feeds{{x, F({3, 2}, {1, 1, 1, 1, 1, 1})}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_EQ(listing(c), "x = Placeholder()\nc = Const([2])\nk = Exp(c)\nsize = Size(x)\nxk = Mul(x, k)\n"
                        "y = Add(xk, size)\nfetch y\n");
  EXPECT_TRUE(compiler::make_constant_folding()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nk/folded = Const([2])\nxk = Mul(x, k/folded)\n"
                        "size/folded = Const(6)\ny = Add(xk, size/folded)\nfetch y\n")
      << "the fed shape makes Size a constant";
  testing::expect_same_results(g, {y}, {}, feeds, c);
  testing::expect_near(testing::run_reference(c, feeds).fetches[0], {3, 2},
                       {7, 6 + std::exp(1.0), 7, 6 + std::exp(1.0), 7, 6 + std::exp(1.0)});
  EXPECT_FALSE(compiler::make_constant_folding()->run(c)) << "a second run finds nothing";
}

// Nodes are visited in topological order, so a chain of constant ops folds in one run.
TEST(ConstantFolding, FoldsAWholeChainInOneRun) {
  Graph g;
  Output a = ops::Const(g, F({3}, {0.5, -1, 2}), "a");
  Output b = ops::Sigmoid(ops::Tanh(a, "t") * 3.0, "b");
  Output y = ops::Sum(b, {}, false, "y");
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, {});
  EXPECT_TRUE(compiler::make_constant_folding()->run(c));
  EXPECT_EQ(c.num_live(), 1);
  EXPECT_EQ(c.fetches[0].node->name, "y/folded");
  testing::expect_same_results(g, {y}, {}, {}, c);
}

// The cap bounds the memory constants take in a plan: an output above it stays computed.
TEST(ConstantFolding, RespectsTheSizeCap) {
  Graph g;
  Output small = ops::Exp(ops::Const(g, Tensor::ones(DType::kFloat32, {4}), "four"), "small");
  Output large = ops::Exp(ops::Const(g, Tensor::ones(DType::kFloat32, {5}), "five"), "large");
  Output total = ops::Sum(large, {}, false, "total");  // one element: folded once `large` is
  compiler::CompiledGraph c = testing::prepare(g, {small, total}, {}, {});
  EXPECT_TRUE(compiler::make_constant_folding(/*max_elements=*/4)->run(c));
  EXPECT_EQ(listing(c), "five = Const([5])\nlarge = Exp(five)\ntotal = Sum(large)\nsmall/folded = Const([4])\n"
                        "fetch small/folded\nfetch total\n")
      << "a Sum of an unfolded input is not constant either";
  testing::expect_same_results(g, {small, total}, {}, {}, c);
}

// Random numbers change from run to run and variables from update to update; a control
// input orders a node after something else, which folding would lose.
TEST(ConstantFolding, LeavesStatefulRandomAndControlledNodesAlone) {
  Graph g;
  Output k = ops::Const(g, F({2}, {1, 2}), "k");
  Output r = ops::RandomUniformLike(k, 7, "r");
  Output v = ops::Variable(g, F({2}, {3, 4}), "v");
  Output from_var = ops::Square(v, "from_var");
  Output controlled = ops::Exp(k, "controlled");
  g.add_control_input(controlled.node, from_var.node);
  Output y = ops::AddN({r, from_var, controlled}, "y");
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, {});
  const std::string before = listing(c);
  EXPECT_FALSE(compiler::make_constant_folding()->run(c));
  EXPECT_EQ(listing(c), before);
  testing::expect_same_results(g, {y}, {}, {}, c, /*steps=*/2);
}

}  // namespace
}  // namespace horn
