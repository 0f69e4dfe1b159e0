// MatMul epilogue fusion: a MatMul read only by an elementwise op or a FusedElementwise chain
// becomes a FusedMatMul that applies the chain to each panel; one read only by a fused
// optimizer update becomes a FusedMatMulAssign, unless the GEMM reads a variable the update
// writes (panels are made while the update stores).
#include "core/compiler/compiler.h"
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using testing::count_ops;
using testing::listing;

Tensor uniform(const Shape& s, uint64_t seed, double scale = 1) {
  return Tensor::uniform(DType::kFloat32, s, -scale, scale, seed);
}

TEST(MatMulEpilogueFusion, ElementwiseConsumerBecomesTheEpilogue) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4, 3}, "x");
  Output w = ops::Const(g, uniform({5, 3}, 1), "w");
  Output b = ops::Const(g, uniform({5}, 2), "b");
  Output y = ops::Add(ops::MatMul(x, w, false, true, "xw"), b, "y");
  const Session::Feeds feeds{{x, uniform({4, 3}, 3)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_TRUE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nw = Const([5,3])\nb = Const([5])\n"
                        "fused/xw = FusedMatMul[MatMul,Add](x, w, b)\nfetch fused/xw\n");
  EXPECT_TRUE(c.fetches[0].node->attrs.get<bool>("transpose_b"));
  testing::expect_same_results(g, {y}, {}, feeds, c);
  EXPECT_FALSE(compiler::make_matmul_epilogue_fusion()->run(c)) << "a second run finds nothing";
}

// After elementwise fusion: the bias add and activation are one chain, and the product is
// the chain's input wherever it stood (here its second operand).
TEST(MatMulEpilogueFusion, FusedChainBecomesTheEpilogue) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4, 3}, "x");
  Output w = ops::Const(g, uniform({3, 5}, 4), "w");
  Output b = ops::Const(g, uniform({5}, 5), "b");
  Output y = ops::Sigmoid(ops::Sub(b, ops::MatMul(x, w, false, false, "xw"), "z"), "y");
  const Session::Feeds feeds{{x, uniform({4, 3}, 6)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  ASSERT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nw = Const([3,5])\nb = Const([5])\nxw = MatMul(x, w)\n"
                        "fused/y = FusedElementwise[Sub,Sigmoid](b, xw)\nfetch fused/y\n");
  EXPECT_TRUE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nw = Const([3,5])\nb = Const([5])\n"
                        "fused/xw = FusedMatMul[MatMul,Sub,Sigmoid](x, w, b)\nfetch fused/xw\n");
  testing::expect_same_results(g, {y}, {}, feeds, c);
}

// Not fused: a product with two readers, a fetched product, a product its consumer
// broadcasts (the epilogue would run over a larger shape), a consumer with a control input.
TEST(MatMulEpilogueFusion, LeavesSharedFetchedBroadcastAndControlledProductsAlone) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4, 3}, "x");
  Output w = ops::Const(g, uniform({3, 3}, 7), "w");
  Output col = ops::Const(g, uniform({3, 1}, 8), "col");
  Output shared = ops::MatMul(x, w, false, false, "shared");
  Output a = ops::Add(ops::Tanh(shared, "t"), ops::Exp(shared, "e"), "a");
  Output fetched = ops::MatMul(x, w, false, true, "fetched");
  Output b = ops::Relu(fetched, "b");
  Output narrow = ops::MatMul(x, col, false, false, "narrow");  // [4,1]
  Output c2 = ops::Mul(narrow, a, "c");                        // [4,3]
  Output late = ops::MatMul(a, w, false, false, "late");
  Output d = ops::Abs(late, "d");
  g.add_control_input(d.node, b.node);
  const Session::Feeds feeds{{x, uniform({4, 3}, 9)}};
  const std::vector<Output> fetches{fetched, b, c2, d};
  compiler::CompiledGraph c = testing::prepare(g, fetches, {}, feeds);
  const std::string before = listing(c);
  EXPECT_FALSE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_EQ(listing(c), before);
  EXPECT_EQ(count_ops(c, "MatMul"), 4);
}

// The whole pipeline on a Dense layer and a transposed product: column panels of 128 and 116
// and row panels, against the reference interpreter on 1 and 2 threads.
TEST(MatMulEpilogueFusion, DenseLayersMatchTheUnfusedOpsBitwise) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 784}, "x");
  Output w = ops::Const(g, uniform({784, 500}, 1, 0.1));
  Output b = ops::Const(g, uniform({500}, 2));
  Output h = ops::Sigmoid(ops::MatMul(x, w) + b);
  Output z = ops::Relu(ops::MatMul(h, w, false, true) - 0.25);
  compiler::Compilation c = compiler::compile(g, {z}, {}, {{x, DType::kFloat32, Shape{100, 784}}});
  EXPECT_EQ(count_ops(c.graph, "FusedMatMul"), 2);
  EXPECT_EQ(count_ops(c.graph, "MatMul"), 0);
  Tensor xv = Tensor::uniform(DType::kFloat32, {100, 784}, 0, 1, 3);
  for (int threads : {1, 2}) {
    Session fused(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
    EXPECT_TRUE(fused.run({{x, xv}}, z).bitwise_equal(reference.run({{x, xv}}, z))) << threads << " threads";
  }
}

// The gradient of a weight, read only by its optimizer update (the weight and a slot).
struct UpdateGraph {
  Graph g;
  Output x, dz, w, m, grad;
  Node* update = nullptr;
  Session::Feeds feeds;
};

void build_update(UpdateGraph& u, int64_t batch, int64_t in, int64_t out) {
  Graph& g = u.g;
  u.x = ops::Placeholder(g, DType::kFloat32, {batch, in}, "x");
  u.dz = ops::Placeholder(g, DType::kFloat32, {batch, out}, "dz");
  u.w = ops::Variable(g, uniform({in, out}, 1), "w");
  u.m = ops::Variable(g, Tensor::zeros(DType::kFloat32, {in, out}), "m");
  u.grad = ops::MatMul(u.x, u.dz, true, false, "grad");
  Output decayed = u.m * 0.9, step = u.grad * 0.1;  // one statement each: a fixed build order
  Output m_new = ops::Assign(u.m, decayed + step, "m_new");
  Output scaled = m_new * 0.01, squared = ops::Square(u.grad) * 0.001;
  u.update = ops::AssignSub(u.w, scaled + squared, "update").node;
  u.feeds = {{u.x, Tensor::normal(DType::kFloat32, {batch, in}, 0, 1, 4)},
             {u.dz, Tensor::normal(DType::kFloat32, {batch, out}, 0, 1, 5)}};
}

TEST(MatMulEpilogueFusion, WeightGradientAndItsUpdateBecomeOneNode) {
  UpdateGraph u;
  build_update(u, 8, 3, 6);
  compiler::CompiledGraph c = testing::prepare(u.g, {}, {u.update}, u.feeds);
  ASSERT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(count_ops(c, "FusedAssign"), 1);
  EXPECT_EQ(count_ops(c, "MatMul"), 1);
  EXPECT_TRUE(compiler::make_matmul_epilogue_fusion()->run(c));
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0]->op_name(), "FusedMatMulAssign") << listing(c);
  EXPECT_EQ(c.targets[0]->attrs.get<std::string>("ops"),
            "MatMul,Mul,Mul,Add,Assign,Mul,Square,Mul,Add,AssignSub");
  EXPECT_EQ(count_ops(c, "MatMul") + count_ops(c, "FusedAssign"), 0) << listing(c);
  EXPECT_EQ(c.targets[0]->inputs[0].name(), "x");
  EXPECT_EQ(c.targets[0]->inputs[1].name(), "dz");
  testing::expect_same_results(u.g, {}, {u.update}, u.feeds, c, /*steps=*/3);
}

// If the GEMM reads a variable the update stores (directly, or through a view such as
// StopGradient), a panel made after another panel's store would see the new value.
TEST(MatMulEpilogueFusion, NoUpdateFusionWhenTheGemmReadsAStoredVariable) {
  Graph g;
  Output s = ops::Const(g, uniform({4, 4}, 2, 0.5), "s");
  Output v = ops::Variable(g, uniform({4, 4}, 3), "v");
  Output w = ops::Variable(g, uniform({4, 4}, 4), "w");
  Output slot = ops::Variable(g, Tensor::zeros(DType::kFloat32, {4, 4}), "slot");
  Output u = ops::Variable(g, uniform({4, 4}, 5), "u");
  Node* direct = ops::AssignSub(v, ops::Tanh(ops::MatMul(v, s, false, false, "vs")) * 0.5, "direct").node;
  Output sw = ops::MatMul(s, ops::StopGradient(w), false, false, "sw");
  Node* viewed = ops::AssignSub(w, ops::Tanh(sw), "viewed").node;
  // The product reads the slot that the same update assigns.
  Output slot_new = ops::Assign(slot, slot * 0.5 + ops::MatMul(slot, s, true, false, "ss"), "slot_new");
  Node* via_slot = ops::AssignAdd(u, slot_new * 0.1, "via_slot").node;
  const std::vector<Node*> targets{direct, viewed, via_slot};
  compiler::CompiledGraph c = testing::prepare(g, {}, targets, {});
  ASSERT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(count_ops(c, "FusedAssign"), 3) << listing(c);
  const std::string before = listing(c);
  EXPECT_FALSE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_EQ(listing(c), before);
  EXPECT_EQ(count_ops(c, "MatMul"), 3);
  testing::expect_same_results(g, {}, targets, {}, c, /*steps=*/2);
}

// Through the whole pipeline and a Session: row panels, column panels and a single block,
// several steps, 1 and 2 threads, against the reference interpreter.
TEST(MatMulEpilogueFusion, UpdateFusionMatchesTheUnfusedOpsBitwise) {
  struct Case {
    int64_t batch, in, out;
  };
  for (const Case& k : {Case{100, 784, 500}, Case{100, 300, 600}, Case{8, 3, 6}}) {
    SCOPED_TRACE(std::to_string(k.in) + "x" + std::to_string(k.out));
    UpdateGraph u;
    build_update(u, k.batch, k.in, k.out);
    compiler::Compilation compiled = compiler::compile(u.g, {}, {u.update}, {});
    EXPECT_EQ(count_ops(compiled.graph, "FusedMatMulAssign"), 1);
    for (int threads : {1, 2}) {
      Session fused(u.g, {.num_threads = threads}), reference(u.g, {.num_threads = threads, .optimize = false});
      for (Session* session : {&fused, &reference}) {
        session->initialize_variables();
        for (int step = 0; step < 3; ++step) session->run(u.feeds, {}, {u.update});
      }
      for (Output var : {u.w, u.m})
        EXPECT_TRUE(fused.variable_value(var.node).bitwise_equal(reference.variable_value(var.node)))
            << var.name() << ", " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace horn
