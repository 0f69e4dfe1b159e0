// Elementwise (loop) fusion: a chain of elementwise ops whose intermediates are read only
// inside the chain becomes one FusedElementwise node; variable updates of the chain's shape
// join as stores (FusedAssign). Never fused away: a value read outside the chain, fetched, of
// another shape, not floating point, random, or ordered by a control input.
#include "core/fused_program.h"
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using testing::count_ops;
using testing::listing;

Tensor normal(const Shape& s, uint64_t seed) { return Tensor::normal(DType::kFloat32, s, 0, 1, seed); }

TEST(ElementwiseFusion, ChainBecomesOneNode) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3}, "x");
  Output b = ops::Placeholder(g, DType::kFloat32, {3}, "b");
  Output y = ops::Sigmoid(ops::Add(ops::Mul(x, b, "m"), x, "a"), "y");
  const Session::Feeds feeds{{x, normal({2, 3}, 1)}, {b, normal({3}, 2)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_EQ(listing(c), "x = Placeholder()\nb = Placeholder()\nm = Mul(x, b)\na = Add(m, x)\ny = Sigmoid(a)\n"
                        "fetch y\n");
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nb = Placeholder()\n"
                        "fused/y = FusedElementwise[Mul,Add,Sigmoid](x, b)\nfetch fused/y\n");
  testing::expect_same_results(g, {y}, {}, feeds, c);
  EXPECT_FALSE(compiler::make_elementwise_fusion()->run(c)) << "a second run finds nothing";
}

// Several blocks of kElementwiseBlock and a ragged tail of the last kChunk.
TEST(ElementwiseFusion, LongChainMatchesTheUnfusedOpsBitwise) {
  Graph g;
  const int64_t n = 300000;
  Output a = ops::Placeholder(g, DType::kFloat32, {n / 100, 100}, "a");
  Output b = ops::Placeholder(g, DType::kFloat32, {100}, "b");
  Output y = ops::Sigmoid(ops::Tanh(a * b + a) - 0.5) * ops::Exp(-ops::Square(a));
  const Session::Feeds feeds{{a, normal({n / 100, 100}, 3)}, {b, normal({100}, 4)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(count_ops(c, "FusedElementwise"), 1);
  EXPECT_EQ(c.num_live(), 4) << "two placeholders, the constant 0.5, one fused node";
  // The nine ops in a topological order (GCC builds the right operand of `*` first).
  EXPECT_EQ(c.fetches[0].node->attrs.get<std::string>("ops"), "Square,Neg,Exp,Mul,Add,Tanh,Sub,Sigmoid,Mul");
  testing::expect_same_results(g, {y}, {}, feeds, c, 1, /*threads=*/2);
  Session fused(g), reference(g, {.optimize = false});
  EXPECT_TRUE(fused.run(feeds, y).bitwise_equal(reference.run(feeds, y)));
}

// t has two readers, both in y's chain: it joins the chain, computed once per element.
TEST(ElementwiseFusion, AValueReadTwiceInsideTheChainJoinsIt) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4}, "x");
  Output t = ops::Tanh(ops::Mul(x, x, "sq"), "t");
  Output e = ops::Exp(t, "e");
  Output y = ops::Add(e, ops::Sigmoid(t, "s"), "y");
  const Session::Feeds feeds{{x, normal({4}, 5)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nfused/y = FusedElementwise[Mul,Tanh,Exp,Sigmoid,Add](x)\nfetch fused/y\n");
  testing::expect_same_results(g, {y}, {}, feeds, c);
}

// A reader outside the chain (z) keeps t a value of its own: it ends its own chain.
TEST(ElementwiseFusion, DoesNotFuseAValueWithAReaderOutsideTheChain) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4}, "x");
  Output t = ops::Tanh(ops::Mul(x, x, "sq"), "t");
  Output y = ops::Add(ops::Exp(t, "e"), ops::Sigmoid(t, "s"), "y");
  Output z = ops::Neg(t, "z");
  const Session::Feeds feeds{{x, normal({4}, 5)}};
  compiler::CompiledGraph c = testing::prepare(g, {y, z}, {}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  // (GCC builds Add's operands right to left: Sigmoid first.)
  EXPECT_EQ(listing(c), "x = Placeholder()\nfused/t = FusedElementwise[Mul,Tanh](x)\nz = Neg(fused/t)\n"
                        "fused/y = FusedElementwise[Sigmoid,Exp,Add](fused/t)\nfetch fused/y\nfetch z\n");
  testing::expect_same_results(g, {y, z}, {}, feeds, c);
}

// A fetched intermediate must still be produced: it ends a chain of its own.
TEST(ElementwiseFusion, DoesNotFuseAFetchedIntermediate) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4}, "x");
  Output t = ops::Tanh(ops::Neg(x, "n"), "t");
  Output y = ops::Exp(ops::Square(t, "sq"), "y");
  const Session::Feeds feeds{{x, normal({4}, 6)}};
  compiler::CompiledGraph c = testing::prepare(g, {t, y}, {}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nfused/t = FusedElementwise[Neg,Tanh](x)\n"
                        "fused/y = FusedElementwise[Square,Exp](fused/t)\nfetch fused/t\nfetch fused/y\n");
  testing::expect_same_results(g, {t, y}, {}, feeds, c);
}

// The producer of a broadcast operand has another shape; comparisons make bool, random
// numbers must be drawn once per element by their own kernel; a control input orders a node.
TEST(ElementwiseFusion, LeavesOtherShapesBoolsRandomAndControlledNodesOut) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3}, "x");
  Output row = ops::Placeholder(g, DType::kFloat32, {3}, "row");
  Output small = ops::Exp(row, "small");                       // [3] into a [2,3] chain
  Output big = ops::Tanh(ops::Add(x, small, "a"), "big");
  Output mask = ops::Greater(big, ops::Scalar(g, 0, DType::kFloat32, "zero"), "mask");
  Output picked = ops::Select(mask, big, ops::RandomUniformLike(x, 3, "r"), "picked");
  Output later = ops::Sigmoid(picked, "later");
  Output ordered = ops::Square(later, "ordered");
  g.add_control_input(ordered.node, small.node);
  Output y = ops::Abs(ordered, "y");
  const Session::Feeds feeds{{x, normal({2, 3}, 7)}, {row, normal({3}, 8)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nrow = Placeholder()\nsmall = Exp(row)\nzero = Const(0)\n"
                        "r = RandomUniformLike(x)\nfused/big = FusedElementwise[Add,Tanh](x, small)\n"
                        "mask = Greater(fused/big, zero)\npicked = Select(mask, fused/big, r)\n"
                        "later = Sigmoid(picked)\nordered = Square(later) ^small\n"
                        "y = Abs(ordered)\nfetch y\n");
  testing::expect_same_results(g, {y}, {}, feeds, c, /*steps=*/2);
}

// An optimizer-style update of a variable and its slot from one gradient: one FusedAssign
// that stores both, run for several steps.
TEST(ElementwiseFusion, VariableUpdatesJoinTheChainAsStores) {
  Graph g;
  Output grad = ops::Placeholder(g, DType::kFloat32, {5}, "grad");
  Output w = ops::Variable(g, normal({5}, 9), "w");
  Output m = ops::Variable(g, Tensor::zeros(DType::kFloat32, {5}), "m");
  Output decayed = m * 0.9, step = grad * 0.1;  // one statement each: a fixed build order
  Output m_new = ops::Assign(m, decayed + step, "m_new");
  Node* update = ops::AssignSub(w, m_new * 0.01, "update").node;
  const Session::Feeds feeds{{grad, normal({5}, 10)}};
  compiler::CompiledGraph c = testing::prepare(g, {}, {update}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0]->op_name(), "FusedAssign") << listing(c);
  EXPECT_EQ(c.targets[0]->attrs.get<std::string>("ops"), "Mul,Mul,Add,Assign,Mul,AssignSub");
  EXPECT_EQ(c.num_live(), 7) << "grad, w, m, three constants and the fused update\n" << listing(c);
  testing::expect_same_results(g, {}, {update}, feeds, c, /*steps=*/3);
}

// Adadelta's shape: the slot d is read for the step and written after it, an order a control
// edge states (the weight's store waits for d's). Both stores and the accumulator's join one
// FusedAssign, whose reads of d see its value from before the update.
TEST(ElementwiseFusion, StoreOrderedByAControlEdgeJoinsTheUpdate) {
  Graph g;
  Output grad = ops::Placeholder(g, DType::kFloat32, {4, 5}, "grad");
  Output w = ops::Variable(g, normal({4, 5}, 13), "w");
  Output a = ops::Variable(g, Tensor::fill(DType::kFloat32, {4, 5}, 0.5), "a");
  Output d = ops::Variable(g, Tensor::fill(DType::kFloat32, {4, 5}, 0.25), "d");
  Output a_new = ops::Assign(a, a * 0.9 + ops::Square(grad) * 0.1, "a_new");
  Output step = grad * ops::Sqrt(d + 1e-6) / ops::Sqrt(a_new + 1e-6);
  Output w_new = ops::AssignSub(w, step * 0.5, "w_new");
  Output d_new = ops::Assign(d, d * 0.9 + ops::Square(step) * 0.1, "d_new");
  g.add_control_input(w_new.node, d_new.node);
  const Session::Feeds feeds{{grad, normal({4, 5}, 14)}};
  compiler::CompiledGraph c = testing::prepare(g, {}, {w_new.node}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0]->op_name(), "FusedAssign") << listing(c);
  EXPECT_EQ(count_ops(c, "Assign") + count_ops(c, "AssignSub"), 0) << listing(c);
  EXPECT_EQ(program_of(*c.targets[0]).stored_externals().size(), 3u) << listing(c);
  testing::expect_same_results(g, {}, {w_new.node}, feeds, c, /*steps=*/3);
}

// Stores write straight into their variable unless an instruction after the store reads the
// variable's old value: here 2 * w (built after w's update, so later in the program) must
// still see w from before the program, as the unfused graph's reads-before-writes order gives.
TEST(ElementwiseFusion, ReadOfAVariableAfterItsStoreSeesTheOldValue) {
  Graph g;
  Output grad = ops::Placeholder(g, DType::kFloat32, {3, 700}, "grad");  // ragged last chunk
  Output w = ops::Variable(g, normal({3, 700}, 17), "w");
  Output m = ops::Variable(g, Tensor::zeros(DType::kFloat32, {3, 700}), "m");
  Output w_new = ops::AssignSub(w, grad * 0.1, "w_new");
  Output old_twice = ops::Mul(w, ops::Scalar(g, 2.0f), "old_twice");
  Node* update = ops::Assign(m, old_twice + w_new, "m_new").node;
  const Session::Feeds feeds{{grad, normal({3, 700}, 18)}};
  compiler::CompiledGraph c = testing::prepare(g, {}, {update}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  ASSERT_EQ(c.targets[0]->op_name(), "FusedAssign") << listing(c);
  const std::string ops = c.targets[0]->attrs.get<std::string>("ops");
  EXPECT_LT(ops.find("AssignSub"), ops.find("Mul,Add")) << ops << ": the read of w comes after its store";
  testing::expect_same_results(g, {}, {update}, feeds, c, /*steps=*/3);
}

// Two stores into one variable: the first's result, read after the second, is the value it
// stored, not the second's, in whole chunks as in the ragged end.
TEST(ElementwiseFusion, AStoreResultReadAfterALaterStoreToItsVariable) {
  Graph g;
  Output a = ops::Placeholder(g, DType::kFloat32, {2, 1040}, "a");  // 2080: whole chunks and a ragged end
  Output v = ops::Variable(g, Tensor::zeros(DType::kFloat32, {2, 1040}), "v");
  Output s1 = ops::Assign(v, a * 1.0f, "s1");
  Output s2 = ops::AssignAdd(v, s1 * 2.0f, "s2");
  Output r = ops::Square(s1, "r");  // built after s2: later in the program
  Output y = ops::Add(s2, r, "y");
  const Session::Feeds feeds{{a, normal({2, 1040}, 22)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  testing::expect_same_results(g, {y}, {}, feeds, c, /*steps=*/2);
}

// A control input that is not a store of the same update keeps the root out of any fusion.
TEST(ElementwiseFusion, OtherControlInputsStillStopFusion) {
  Graph g;
  Output grad = ops::Placeholder(g, DType::kFloat32, {6}, "grad");
  Output w = ops::Variable(g, normal({6}, 15), "w");
  Output other = ops::Exp(grad, "other");
  Output w_new = ops::AssignSub(w, grad * 0.5, "w_new");
  g.add_control_input(w_new.node, other.node);
  const Session::Feeds feeds{{grad, normal({6}, 16)}};
  compiler::CompiledGraph c = testing::prepare(g, {other}, {w_new.node}, feeds);
  compiler::make_elementwise_fusion()->run(c);
  EXPECT_EQ(count_ops(c, "AssignSub"), 1) << listing(c);
  testing::expect_same_results(g, {other}, {w_new.node}, feeds, c, /*steps=*/2);
}

// A delta that is also fetched must be stored whole: its chain is fused, and the update
// stays a node of its own that reads it.
TEST(ElementwiseFusion, DoesNotStoreAFetchedDelta) {
  Graph g;
  Output d = ops::Placeholder(g, DType::kFloat32, {2, 3}, "d");
  Output w = ops::Variable(g, normal({2, 3}, 11), "w");
  Output t = ops::Tanh(ops::Neg(d, "n"), "t");
  Node* update = ops::AssignAdd(w, t, "update").node;
  const Session::Feeds feeds{{d, normal({2, 3}, 12)}};
  compiler::CompiledGraph c = testing::prepare(g, {t}, {update}, feeds);
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(listing(c), "d = Placeholder()\nw = Variable()\nfused/t = FusedElementwise[Neg,Tanh](d)\n"
                        "update = AssignAdd(w, fused/t)\nfetch fused/t\ntarget update\n");
  testing::expect_same_results(g, {t}, {update}, feeds, c, /*steps=*/2);
}

}  // namespace
}  // namespace horn
