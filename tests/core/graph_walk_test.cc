#include "core/graph_walk.h"

#include "tests/test_util.h"

namespace horn {
namespace {

constexpr DType f32 = DType::kFloat32;

std::vector<std::string> names(const Graph& g, const std::vector<bool>& marked) {
  std::vector<std::string> out;
  for (int id = 0; id < g.num_nodes(); ++id)
    if (marked[id]) out.push_back(g.node(id)->name);
  return out;
}

// x -> a -> b -> c, y -> c, and `late` (created last) is a control input of `a`.
struct Chain {
  Graph g;
  Output x = ops::Placeholder(g, f32, {2}, "x");
  Output y = ops::Placeholder(g, f32, {2}, "y");
  Output a = ops::Relu(x, "a");
  Output b = ops::Exp(a, "b");
  Output c = ops::Add(b, y, "c");
  Output late = ops::Const(g, Tensor::ones(f32, {2}), "late");
  Chain() { g.add_control_input(a.node, late.node); }
};

TEST(GraphWalk, AncestorsFollowDataOrAlsoControlEdges) {
  Chain t;
  EXPECT_EQ(names(t.g, ancestors(t.g, {t.c.node}, Edges::kData)),
            (std::vector<std::string>{"x", "y", "a", "b", "c"}));
  EXPECT_EQ(names(t.g, ancestors(t.g, {t.c.node}, Edges::kDataAndControl)),
            (std::vector<std::string>{"x", "y", "a", "b", "c", "late"}));
  // A stop node is reached but not walked through.
  EXPECT_EQ(names(t.g, ancestors(t.g, {t.c.node}, Edges::kDataAndControl,
                                 [&](const Node& n) { return &n == t.b.node; })),
            (std::vector<std::string>{"y", "b", "c"}));
}

TEST(GraphWalk, DescendantsWalkConsumersWhateverTheIds) {
  Chain t;
  EXPECT_EQ(names(t.g, descendants(t.g, {t.x.node}, Edges::kData)),
            (std::vector<std::string>{"x", "a", "b", "c"}));
  // `late` has a higher id than `a`, which depends on it: found through edges, not ids.
  EXPECT_EQ(names(t.g, descendants(t.g, {t.late.node}, Edges::kDataAndControl)),
            (std::vector<std::string>{"a", "b", "c", "late"}));
  EXPECT_EQ(names(t.g, descendants(t.g, {t.late.node}, Edges::kData)), (std::vector<std::string>{"late"}));
  EXPECT_EQ(names(t.g, descendants(t.g, nodes_of({t.x, t.y}), Edges::kData,
                                   [&](const Node& n) { return &n == t.a.node; })),
            (std::vector<std::string>{"x", "y", "a", "c"}));
}

}  // namespace
}  // namespace horn
