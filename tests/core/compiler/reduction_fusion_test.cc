// Reduction fusion: a sum or mean over adjacent axes of an elementwise result is computed in
// the pass that makes the result (FusedReduce, which keeps the result as a second output when
// something else reads it), and a column sum of a FusedMatMul becomes its second output.
#include "core/compiler/compiler.h"
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using testing::count_ops;
using testing::listing;

Tensor normal(const Shape& s, uint64_t seed, DType dt = DType::kFloat32) {
  return Tensor::normal(dt, s, 0, 1, seed);
}

TEST(ReductionFusion, ReductionOfAnElementwiseOpBecomesOneNode) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {3, 4}, "x");
  Output y = ops::Sum(ops::Exp(x, "e"), {1}, false, "y");
  const Session::Feeds feeds{{x, normal({3, 4}, 1)}};
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, feeds);
  EXPECT_EQ(listing(c), "x = Placeholder()\ne = Exp(x)\ny = Sum(e)\nfetch y\n");
  EXPECT_TRUE(compiler::make_reduction_fusion()->run(c));
  EXPECT_EQ(listing(c, true), "x = Placeholder() [3,4]\nfused/e/Sum = FusedReduce[Exp,Sum](x) [3]\n"
                              "fetch fused/e/Sum\n");
  testing::expect_same_results(g, {y}, {}, feeds, c);
  EXPECT_FALSE(compiler::make_reduction_fusion()->run(c)) << "a second run finds nothing";
}

// After elementwise fusion, with the chain's result also fetched: one node, two outputs.
TEST(ReductionFusion, ReadElsewhereTheResultBecomesASecondOutput) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {3, 4}, "x");
  Output d = ops::Tanh(ops::Neg(x, "n"), "d");
  Output m = ops::Mean(d, {0}, true, "m");
  const Session::Feeds feeds{{x, normal({3, 4}, 2)}};
  compiler::CompiledGraph c = testing::prepare(g, {m, d}, {}, feeds);
  ASSERT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nfused/d = FusedElementwise[Neg,Tanh](x)\nm = Mean(fused/d)\n"
                        "fetch m\nfetch fused/d\n");
  EXPECT_TRUE(compiler::make_reduction_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nfused/d/Mean = FusedReduce[Neg,Tanh,Mean](x)\n"
                        "fetch fused/d/Mean\nfetch fused/d/Mean:1\n");
  EXPECT_EQ(c.fetches[0].shape(), (Shape{1, 4}));
  EXPECT_EQ(c.fetches[1].shape(), (Shape{3, 4}));
  testing::expect_same_results(g, {m, d}, {}, feeds, c);
}

// Max is not a sum; axes 0 and 2 of three are not adjacent; a fed value has no producing
// pass; a MatMul that is not fused has no epilogue to sum in; a FusedMatMul's row sum
// (axis 1) is not the column sum its panels can make.
TEST(ReductionFusion, LeavesOtherReductionsAndProducersAlone) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3, 4}, "x");
  Output a = ops::Placeholder(g, DType::kFloat32, {4, 4}, "a");
  Output w = ops::Const(g, normal({4, 4}, 3), "w");
  Output max = ops::Max(ops::Exp(x, "e1"), {1}, false, "max");
  Output apart = ops::Sum(ops::Exp(x, "e2"), {0, 2}, false, "apart");
  Output fed = ops::Sum(x, {}, false, "fed");
  Output product = ops::Sum(ops::MatMul(a, w, false, false, "aw"), {0}, false, "product");
  Output rows = ops::Sum(ops::Relu(ops::MatMul(a, w, true, false, "atw"), "r"), {1}, false, "rows");
  const std::vector<Output> fetches{max, apart, fed, product, rows};
  const Session::Feeds feeds{{x, normal({2, 3, 4}, 4)}, {a, normal({4, 4}, 5)}};
  compiler::CompiledGraph c = testing::prepare(g, fetches, {}, feeds);
  ASSERT_TRUE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_EQ(count_ops(c, "FusedMatMul"), 1);
  const std::string before = listing(c);
  EXPECT_FALSE(compiler::make_reduction_fusion()->run(c));
  EXPECT_EQ(listing(c), before);
  testing::expect_same_results(g, fetches, {}, feeds, c);
}

// Dense backward: dZ from the activation-gradient epilogue of dY W^T, and the bias gradient
// (ReduceToShapeLike over the batch) as the FusedMatMul's second output.
TEST(ReductionFusion, ColumnSumOfAFusedMatMulBecomesItsSecondOutput) {
  Graph g;
  Output dy = ops::Placeholder(g, DType::kFloat32, {5, 3}, "dy");
  Output h = ops::Placeholder(g, DType::kFloat32, {5, 4}, "h");
  Output w = ops::Const(g, normal({4, 3}, 6), "w");
  Output dz = ops::SigmoidGrad(h, ops::MatMul(dy, w, false, true, "dyw"), "dz");
  Output db = ops::ReduceToShapeLike(dz, ops::Const(g, Tensor::zeros(DType::kFloat32, {4}), "like"), "db");
  Output dw = ops::MatMul(h, dz, true, false, "dw");
  const Session::Feeds feeds{{dy, normal({5, 3}, 7)}, {h, Tensor::uniform(DType::kFloat32, {5, 4}, 0, 1, 8)}};
  compiler::CompiledGraph c = testing::prepare(g, {db, dw}, {}, feeds);
  ASSERT_TRUE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_EQ(listing(c), "dy = Placeholder()\nh = Placeholder()\nw = Const([4,3])\nlike = Const([4])\n"
                        "fused/dyw = FusedMatMul[MatMul,SigmoidGrad](dy, w, h)\n"
                        "db = ReduceToShapeLike(fused/dyw, like)\n"
                        "dw = MatMul(h, fused/dyw)\nfetch db\nfetch dw\n");
  EXPECT_TRUE(compiler::make_reduction_fusion()->run(c));
  EXPECT_EQ(listing(c), "dy = Placeholder()\nh = Placeholder()\nw = Const([4,3])\n"
                        "fused/dyw/ReduceToShapeLike = "
                        "FusedMatMul[MatMul,SigmoidGrad,ReduceToShapeLike](dy, w, h)\n"
                        "dw = MatMul(h, fused/dyw/ReduceToShapeLike)\n"
                        "fetch fused/dyw/ReduceToShapeLike:1\nfetch dw\n");
  testing::expect_same_results(g, {db, dw}, {}, feeds, c);
}

// The reference reduces [m, 1] over axis 0 as one contiguous run (kernels::reduce: Eigen's
// packet sum per kReduceBlock), but a FusedMatMul's column sum adds row after row: the last
// bit would differ once m is more than a few packets, so a single column is left unfused.
// Found by the block-boundary differential test in compiler_test.cc.
TEST(ReductionFusion, ColumnSumOfASingleColumnProductStaysUnfusedAndMatchesTheReferenceBitwise) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {1025, 3}, "x");
  Output w = ops::Const(g, normal({3, 1}, 9), "w");
  Output mean = ops::Mean(ops::Tanh(ops::MatMul(x, w, false, false, "xw"), "t"), {0}, false, "mean");
  const Session::Feeds feeds{{x, normal({1025, 3}, 10)}};
  compiler::CompiledGraph c = testing::prepare(g, {mean}, {}, feeds);
  ASSERT_TRUE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_FALSE(compiler::make_reduction_fusion()->run(c));
  testing::expect_same_results(g, {mean}, {}, feeds, c);
}

// Input fusion over every layout kernels::reduce handles (everything in blocks, rows, a
// middle axis in column blocks), the result also read elsewhere or not, in f32 and f64, on
// 1 and 2 threads, through the whole pipeline and a Session.
TEST(ReductionFusion, MatchesTheUnfusedReductionBitwise) {
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    Graph g;
    Output a = ops::Placeholder(g, dt, {-1, 7, 700}, "a");
    Output b = ops::Placeholder(g, dt, {700}, "b");
    Output d = ops::Tanh(a * b) - a;  // also fetched itself: the fused node keeps it
    std::vector<Output> fetches{
        ops::Mean(ops::Square(a - b)),              // everything: several blocks of partials
        ops::Sum(ops::Exp(-ops::Square(a)), {-1}),  // rows of 700
        ops::Sum(ops::Sigmoid(a) * b, {0, 1}),      // leading axes, columns in two blocks
        ops::Mean(ops::Abs(a), {1}, true),          // the middle axis of [n, 7, 700]
        ops::Sum(d, {0}), d};
    const Shape shape{30, 7, 700};
    compiler::Compilation c = compiler::compile(g, fetches, {}, {{a, dt, shape}, {b, dt, Shape{700}}});
    EXPECT_EQ(count_ops(c.graph, "FusedReduce"), 5);
    EXPECT_EQ(count_ops(c.graph, "Sum") + count_ops(c.graph, "Mean"), 0);
    int multi_output = 0;
    for (Node* n : c.graph.live_nodes()) multi_output += n->op_name() == "FusedReduce" && n->num_outputs() == 2;
    EXPECT_EQ(multi_output, 1) << "d is fetched too";
    Session::Feeds feeds{{a, normal(shape, 3, dt)}, {b, normal({700}, 4, dt)}};
    for (int threads : {1, 2}) {
      Session fused(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
      const std::vector<Tensor> x = fused.run(feeds, fetches), y = reference.run(feeds, fetches);
      for (size_t i = 0; i < x.size(); ++i)
        EXPECT_TRUE(x[i].bitwise_equal(y[i]))
            << dtype_name(dt) << ", fetch " << i << ", " << threads << " threads";
    }
  }
}

// The backward pass of a Dense layer, through the whole pipeline: the bias gradient from one
// FusedMatMul, for column panels (each sums its own columns) and row panels (one pass at
// the end); and a column mean of a forward product.
TEST(ReductionFusion, MatMulColumnSumMatchesTheUnfusedOpsBitwise) {
  for (int64_t batch : {100, 700}) {  // 700 rows x 300 columns: row panels
    Graph g;
    Output dy = ops::Placeholder(g, DType::kFloat32, {-1, 300}, "dy");
    Output h = ops::Placeholder(g, DType::kFloat32, {-1, 300}, "h");
    Output w = ops::Const(g, Tensor::uniform(DType::kFloat32, {300, 300}, -0.1, 0.1, 1));
    Output dz = ops::SigmoidGrad(h, ops::MatMul(dy, w, false, true));
    Output db = ops::ReduceToShapeLike(dz, ops::Const(g, Tensor::zeros(DType::kFloat32, {300})));
    Output dw = ops::MatMul(h, dz, true, false);
    Output mean = ops::Mean(ops::Tanh(ops::MatMul(dy, w)), {0}, true);  // a column mean, [1, 300]
    const Shape shape{batch, 300};
    const std::vector<Output> fetches{db, dw, mean};
    compiler::Compilation c =
        compiler::compile(g, fetches, {}, {{dy, DType::kFloat32, shape}, {h, DType::kFloat32, shape}});
    int fused = 0;
    for (Node* n : c.graph.live_nodes()) fused += n->op_name() == "FusedMatMul" && n->num_outputs() == 2;
    EXPECT_EQ(fused, 2);
    EXPECT_EQ(count_ops(c.graph, "ReduceToShapeLike") + count_ops(c.graph, "Mean"), 0);
    Session::Feeds feeds{{dy, normal(shape, 5)}, {h, Tensor::uniform(DType::kFloat32, shape, 0, 1, 6)}};
    for (int threads : {1, 2}) {
      Session s(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
      const std::vector<Tensor> x = s.run(feeds, fetches), y = reference.run(feeds, fetches);
      for (size_t i = 0; i < x.size(); ++i)
        EXPECT_TRUE(x[i].bitwise_equal(y[i]))
            << "fetch " << i << ", " << batch << " rows, " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace horn
