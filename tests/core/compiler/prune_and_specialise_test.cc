// clone_for: the copy a plan starts from holds only what the fetches and targets need, stops
// at fed outputs, and gives fed placeholders (and everything after them) the fed shapes.
#include "core/compiler/compiled_graph.h"
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using compiler::clone_for;
using testing::F;
using testing::listing;

TEST(PruneAndSpecialise, KeepsOnlyWhatTheFetchesNeedAndSpecialisesFedShapes) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 3}, "x");
  Output w = ops::Const(g, Tensor::ones(DType::kFloat32, {3, 2}), "w");
  Output y = ops::Relu(ops::MatMul(x, w, false, false, "xw"), "y");
  ops::Exp(x, "unused");
  ops::Placeholder(g, DType::kFloat32, {2}, "not_fed");
  EXPECT_EQ(listing(g, true),
            "x = Placeholder() [?,3]\nw = Const([3,2]) [3,2]\nxw = MatMul(x, w) [?,2]\ny = Relu(xw) [?,2]\n"
            "unused = Exp(x) [?,3]\nnot_fed = Placeholder() [2]\n");
  const Session::Feeds feeds{{x, F({5, 3}, std::vector<float>(15, 0.5f))}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_EQ(listing(c, true),
            "x = Placeholder() [5,3]\nw = Const([3,2]) [3,2]\nxw = MatMul(x, w) [5,2]\ny = Relu(xw) [5,2]\n"
            "fetch y\n");
  EXPECT_EQ(c.feeds.size(), 1u);
  EXPECT_EQ(c.feeds[0]->name, "x");
  EXPECT_EQ(g.num_nodes(), 6) << "the user's graph is not changed";
  EXPECT_EQ(g.find_node("x")->output_shapes[0], (Shape{-1, 3}));
  testing::expect_same_results(g, {y}, {}, feeds, c);
}

// A fed intermediate becomes a placeholder: what computes it is not copied.
TEST(PruneAndSpecialise, StopsAtAFedIntermediate) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4}, "x");
  Output h = ops::Tanh(ops::Exp(x, "e"), "h");
  Output y = ops::Square(h, "y");
  const Session::Feeds feeds{{h, F({4}, {1, 2, 3, 4})}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_EQ(listing(c), "h = Placeholder()\ny = Square(h)\nfetch y\n");
  EXPECT_EQ(c.feeds[0]->name, "h");
  EXPECT_TRUE(c.is_fed(c.feeds[0]));
  testing::expect_same_results(g, {y}, {}, feeds, c);
}

// Targets are run for their effect: their inputs and control inputs are kept, and a feed
// nothing reads is still copied (feeding it is allowed).
TEST(PruneAndSpecialise, KeepsTargetsTheirControlInputsAndUnreadFeeds) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2}, "x");
  Output v = ops::Variable(g, F({2}, {1, 2}), "v");
  Output first = ops::Identity(v, "first");
  Output update = ops::AssignAdd(v, x, "update");
  g.add_control_input(update.node, first.node);
  Output spare = ops::Placeholder(g, DType::kFloat32, {3}, "spare");
  ops::Exp(v, "unused");
  const Session::Feeds feeds{{x, F({2}, {10, 20})}, {spare, F({3}, {0, 0, 0})}};
  compiler::CompiledGraph c = testing::prepare(g, {}, {update.node}, feeds);
  EXPECT_EQ(listing(c), "x = Placeholder()\nv = Variable()\nfirst = Identity(v)\n"
                        "update = AssignAdd(v, x) ^first\ntarget update\n");
  ASSERT_EQ(c.feeds.size(), 2u);
  EXPECT_EQ(c.feeds[1]->name, "spare") << "copied, though not live";
  EXPECT_EQ(c.graph->num_nodes(), 5);
  EXPECT_FALSE(c.is_target(c.feeds[0]));
  testing::expect_same_results(g, {}, {update.node}, feeds, c, /*steps=*/3);
}

// A batch of 7 and a batch of 2 are two copies with their own shapes (two cached plans).
TEST(PruneAndSpecialise, EachFedShapeMakesItsOwnCopy) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 4}, "x");
  Output y = ops::Mean(ops::Square(x), {1}, false, "y");
  for (int64_t batch : {7, 2}) {
    compiler::CompiledGraph c = clone_for(g, {y}, {}, {{x, DType::kFloat32, Shape{batch, 4}}});
    EXPECT_EQ(c.fetches[0].shape(), Shape{batch});
    EXPECT_TRUE(c.fetches[0].shape().is_fully_known());
  }
  EXPECT_EQ(y.shape(), Shape{-1});
}

}  // namespace
}  // namespace horn
