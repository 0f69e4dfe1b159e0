// Cast fusion: a Cast to bfloat16 of a fused kernel's float32 values becomes that kernel's
// last output (attribute "bfloat16_copy"), written in the same pass, with the same bits as
// the Cast; the float32 values stay an output for their other readers.
#include "autodiff/gradients.h"
#include "core/compiler/compiler.h"
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using testing::listing;

constexpr DType f32 = DType::kFloat32, bf16 = DType::kBFloat16;

Tensor normal(const Shape& s, uint64_t seed) { return Tensor::normal(f32, s, 0, 1, seed); }

// A Dense layer's activation under mixed_bfloat16: read as float32 by the backward pass (here
// a fetch) and as bfloat16 by the next layer's product.
TEST(CastFusion, CastOfAnEpilogueBecomesItsLastOutput) {
  Graph g;
  Output x = ops::Placeholder(g, bf16, {5, 4}, "x");
  Output w = ops::Const(g, normal({4, 3}, 1).cast(bf16), "w");
  Output h = ops::Sigmoid(ops::MatMul(x, w, false, false, "xw"), "h");
  Output hb = ops::Cast(h, bf16, "hb");
  Output next = ops::MatMul(hb, ops::Const(g, normal({3, 2}, 2).cast(bf16), "v"), false, false, "next");
  const Session::Feeds feeds{{x, normal({5, 4}, 3).cast(bf16)}};
  compiler::CompiledGraph c = testing::prepare(g, {next, h}, {}, feeds);
  ASSERT_TRUE(compiler::make_matmul_epilogue_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nw = Const([4,3])\nv = Const([3,2])\n"
                        "fused/xw = FusedMatMul[MatMul,Sigmoid](x, w)\nhb = Cast(fused/xw)\nnext = MatMul(hb, v)\n"
                        "fetch next\nfetch fused/xw\n");
  EXPECT_TRUE(compiler::make_cast_fusion()->run(c));
  EXPECT_EQ(listing(c), "x = Placeholder()\nw = Const([4,3])\nv = Const([3,2])\n"
                        "fused/xw/Cast = FusedMatMul[MatMul,Sigmoid,Cast](x, w)\n"
                        "next = MatMul(fused/xw/Cast:1, v)\nfetch next\nfetch fused/xw/Cast\n");
  EXPECT_EQ(c.fetches[1].dtype(), f32);
  testing::expect_same_results(g, {next, h}, {}, feeds, c);
  EXPECT_FALSE(compiler::make_cast_fusion()->run(c)) << "a second run finds nothing";
}

// A bias gradient's dZ, kept by its FusedReduce for the weight-gradient product: the copy is
// output 2, after the sum and the float32 values. A FusedElementwise loop's copy is output 1.
TEST(CastFusion, CastOfKeptReductionValuesAndOfALoop) {
  Graph g;
  Output y = ops::Placeholder(g, f32, {6, 4}, "y");
  Output dy = ops::Placeholder(g, f32, {6, 4}, "dy");
  Output dz = ops::ReluGrad(dy, y, "dz");
  Output db = ops::Sum(dz, {0}, false, "db");
  Output dzb = ops::Cast(dz, bf16, "dzb");
  Output t = ops::Tanh(ops::Neg(y, "n"), "t");
  Output tb = ops::Cast(t, bf16, "tb");
  const Session::Feeds feeds{{y, normal({6, 4}, 4)}, {dy, normal({6, 4}, 5)}};
  compiler::CompiledGraph c = testing::prepare(g, {db, dzb, tb}, {}, feeds);
  ASSERT_TRUE(compiler::make_elementwise_fusion()->run(c));
  ASSERT_TRUE(compiler::make_reduction_fusion()->run(c));
  EXPECT_TRUE(compiler::make_cast_fusion()->run(c));
  EXPECT_EQ(listing(c), "y = Placeholder()\ndy = Placeholder()\n"
                        "fused/t/Cast = FusedElementwise[Neg,Tanh,Cast](y)\n"
                        "fused/dz/Sum/Cast = FusedReduce[ReluGrad,Sum,Cast](dy, y)\n"
                        "fetch fused/dz/Sum/Cast\nfetch fused/dz/Sum/Cast:2\nfetch fused/t/Cast:1\n");
  EXPECT_EQ(c.fetches[1].dtype(), bf16);
  EXPECT_EQ(c.fetches[2].dtype(), bf16);
  testing::expect_same_results(g, {db, dzb, tb}, {}, feeds, c);
}

// Casts the copy cannot replace: to float64, from bfloat16, of a value no fused kernel makes
// (a feed, a plain op), of a FusedReduce's sum (not its values), of a fused update, and one
// that orders another node by a control edge (rebuilt, it would run twice).
TEST(CastFusion, LeavesOtherCastsAlone) {
  Graph g;
  Output x = ops::Placeholder(g, f32, {3, 4}, "x");
  Output e = ops::Exp(ops::Neg(x, "n"), "e");
  Output wide = ops::Cast(e, DType::kFloat64, "wide");
  Output back = ops::Cast(ops::Cast(e, bf16, "eb"), f32, "back");
  Output fed = ops::Cast(x, bf16, "fed");
  Output plain = ops::Cast(ops::Transpose(x, {1, 0}, "tr"), bf16, "plain");
  Output sum = ops::Cast(ops::Sum(ops::Exp(x, "e2"), {0}, false, "s"), bf16, "sum");
  Output v = ops::Variable(g, normal({3, 4}, 6), "v");
  Output updated = ops::Cast(ops::Assign(v, v * 0.5, "assign"), bf16, "updated");
  Output ordering = ops::Cast(ops::Sigmoid(ops::Neg(x, "n2"), "s2"), bf16, "ordering");
  Output later = ops::Square(x, "later");
  g.add_control_input(later.node, ordering.node);
  const Session::Feeds feeds{{x, normal({3, 4}, 7)}};
  compiler::CompiledGraph c = testing::prepare(g, {wide, back, fed, plain, sum, updated, ordering, later}, {}, feeds);
  ASSERT_TRUE(compiler::make_elementwise_fusion()->run(c));
  ASSERT_TRUE(compiler::make_reduction_fusion()->run(c));
  // Only the bfloat16 cast of e (under `back`) is of a fused loop's values.
  EXPECT_TRUE(compiler::make_cast_fusion()->run(c));
  EXPECT_EQ(testing::count_ops(c, "Cast"), 7);
  EXPECT_FALSE(compiler::make_cast_fusion()->run(c));
  Session s(g, {.num_threads = 2});
  s.initialize_variables();
  const std::vector<Tensor> got = s.run(feeds, {wide, back, fed, plain, sum});
  Session reference(g, {.optimize = false});
  reference.initialize_variables();
  const std::vector<Tensor> want = reference.run(feeds, {wide, back, fed, plain, sum});
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(got[i].bitwise_equal(want[i])) << "fetch " << i;
}

// Through the whole pipeline: a mixed_bfloat16 convolution pair (forward, both gradients),
// whose activation and gradient casts fuse into the convolution epilogues and the bias
// gradient's reduction, computes the reference's bits on 1 and 2 threads.
TEST(CastFusion, ConvolutionsUnderMixedPrecisionMatchTheReferenceBitwise) {
  Graph g;
  Output x = ops::Placeholder(g, f32, {2, 6, 6, 3}, "x");
  Output w1 = ops::Variable(g, normal({3, 3, 3, 4}, 8), "w1");
  Output b1 = ops::Variable(g, normal({4}, 9), "b1");
  Output w2 = ops::Variable(g, normal({3, 3, 4, 2}, 10), "w2");
  Output h = ops::Relu(ops::Conv2D(ops::Cast(x, bf16), ops::Cast(w1, bf16), {1, 1}, "valid") + b1, "h");
  Output z = ops::Conv2D(ops::Cast(h, bf16), ops::Cast(w2, bf16), {1, 1}, "valid");
  Output loss = ops::Mean(ops::Square(z));
  const std::vector<Output> grads = autodiff::gradients({loss}, {w1, b1, w2});
  const std::vector<Output> fetches{loss, grads[0], grads[1], grads[2]};
  const Session::Feeds feeds{{x, normal({2, 6, 6, 3}, 11)}};
  Session reference(g, {.optimize = false});
  reference.initialize_variables();
  const std::vector<Tensor> want = reference.run(feeds, fetches);
  for (int threads : {1, 2}) {
    Session s(g, {.num_threads = threads});
    s.initialize_variables();
    const std::vector<Tensor> got = s.run(feeds, fetches);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(got[i].bitwise_equal(want[i])) << "fetch " << i;
    const std::string fusions = s.plan_summary(feeds, fetches).to_string();
    EXPECT_NE(fusions.find("Relu,Cast"), std::string::npos) << fusions;
  }
}

}  // namespace
}  // namespace horn
