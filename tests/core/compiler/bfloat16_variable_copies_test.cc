// bfloat16 copies of weights: a Cast to bfloat16 of a float32 Variable becomes a
// VariableAsBFloat16 read, and the fused update that writes the variable keeps the copy
// (attribute "bfloat16_copies"). The copy must give the Cast's bits in every run: refreshed
// by each training step, stale (and cast afresh) after any other write.
#include "autodiff/gradients.h"
#include "core/compiler/compiler.h"
#include "core/op_registry.h"
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {

constexpr DType f32 = DType::kFloat32, bf16 = DType::kBFloat16;

Tensor normal(const Shape& s, uint64_t seed) { return Tensor::normal(f32, s, 0, 1, seed); }

// A Dense layer under mixed_bfloat16 trained by SGD: y = bf16(x) bf16(w), w -= 0.1 dw.
struct MixedDenseStep {
  Graph g;
  Output x = ops::Placeholder(g, f32, {8, 6}, "x");
  Output w = ops::Variable(g, normal({6, 5}, 1), "w");
  Output wb = ops::Cast(w, bf16, "wb");
  Output y = ops::MatMul(ops::Cast(x, bf16, "xb"), wb, false, false, "y");
  Output loss = ops::Mean(ops::Square(y), {}, false, "loss");
  Output update = ops::AssignSub(w, autodiff::gradients({loss}, {w})[0] * 0.1, "update");
  Session::Feeds feeds{{x, normal({8, 6}, 2)}};
};

const Node* writer_of(const compiler::CompiledGraph& c, const Node* var) {
  for (const Node* n : c.live_nodes())
    for (int i : written_variable_inputs(*n))
      if (n->inputs[i].node->name == var->name) return n;
  return nullptr;
}

TEST(BFloat16VariableCopies, CastOfAVariableReadsTheCopyThatItsFusedUpdateKeeps) {
  MixedDenseStep m;
  compiler::Compilation c = compiler::compile(m.g, {m.loss}, {m.update.node}, testing::feed_specs(m.feeds),
                                              compiler::default_pipeline());
  EXPECT_EQ(testing::count_ops(c.graph, "VariableAsBFloat16"), 1);
  for (const Node* n : c.graph.live_nodes()) {
    if (n->op_name() == "Cast") {
      EXPECT_NE(n->inputs[0].node->name, "w") << "the weight's Cast is left";
    }
  }
  const Node* update = writer_of(c.graph, m.w.node);
  ASSERT_NE(update, nullptr);
  EXPECT_EQ(update->op_name(), "FusedMatMulAssign");
  ASSERT_TRUE(update->attrs.has("bfloat16_copies"));
  const std::vector<int64_t> kept = update->attrs.get<std::vector<int64_t>>("bfloat16_copies");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(update->inputs[kept[0]].node->name, "w");
}

// A fetched Cast would be returned after the run's update rewrote the copy: it stays a Cast.
TEST(BFloat16VariableCopies, FetchedCastStaysACast) {
  MixedDenseStep m;
  compiler::CompiledGraph c = testing::prepare(m.g, {m.loss, m.wb}, {m.update.node}, m.feeds);
  EXPECT_FALSE(compiler::make_bfloat16_variable_copies()->run(c));
  EXPECT_EQ(testing::count_ops(c, "VariableAsBFloat16"), 0);
}

// Reads the copy cannot serve keep the Cast and its own buffer: a fetched view (returned after
// the update rewrote the copy), a reader ordered after the update by a control edge, and a
// weight-gradient product fused with the update that would read rows it already rewrote.
TEST(BFloat16VariableCopies, ReadsAfterTheUpdateOrByItKeepTheCast) {
  {
    MixedDenseStep m;
    Output flat = ops::Reshape(m.wb, {30}, "flat");
    compiler::CompiledGraph c = testing::prepare(m.g, {m.loss, flat}, {m.update.node}, m.feeds);
    EXPECT_FALSE(compiler::make_bfloat16_variable_copies()->run(c)) << "a fetched view";
  }
  {
    MixedDenseStep m;
    Output flat = ops::Reshape(ops::Reshape(m.wb, {30}), {5, 6}, "flat");
    compiler::CompiledGraph c = testing::prepare(m.g, {m.loss, flat}, {m.update.node}, m.feeds);
    EXPECT_FALSE(compiler::make_bfloat16_variable_copies()->run(c)) << "a fetched view of a view";
  }
  {  // a reader whose other operand is computed from the updated weight
    MixedDenseStep m;
    Output t = ops::Cast(ops::MatMul(m.x, m.update), bf16, "t");
    Output after = ops::MatMul(t, m.wb, false, true, "after");
    compiler::CompiledGraph c = testing::prepare(m.g, {m.loss, after}, {m.update.node}, m.feeds);
    EXPECT_FALSE(compiler::make_bfloat16_variable_copies()->run(c)) << "a reader computed from the update";
    testing::expect_same_results(m.g, {m.loss, after}, {m.update.node}, m.feeds, c, 3);
  }
  {
    MixedDenseStep m;
    Output after = ops::MatMul(ops::Cast(m.x, bf16, "xb2"), m.wb, false, false, "after");
    m.g.add_control_input(after.node, m.update.node);
    compiler::CompiledGraph c = testing::prepare(m.g, {m.loss, after}, {m.update.node}, m.feeds);
    EXPECT_FALSE(compiler::make_bfloat16_variable_copies()->run(c)) << "a reader after the update";
  }
  {  // y = stop_gradient(wb) wb: dL/dwb = wb^T dy, a product of the copy, fused with w's update
    Graph g;
    Output w = ops::Variable(g, normal({6, 6}, 3), "w");
    Output wb = ops::Cast(w, bf16, "wb");
    Output loss = ops::Mean(ops::Square(ops::MatMul(ops::StopGradient(wb), wb)), {}, false, "loss");
    Output update = ops::AssignSub(w, autodiff::gradients({loss}, {w})[0] * 0.1, "update");
    compiler::Compilation c = compiler::compile(g, {loss}, {update.node}, {}, compiler::default_pipeline());
    const Node* writer = writer_of(c.graph, w.node);
    ASSERT_NE(writer, nullptr);
    EXPECT_EQ(writer->op_name(), "FusedMatMulAssign");
    EXPECT_EQ(testing::count_ops(c.graph, "VariableAsBFloat16"), 0) << "the update's own product reads it";
    Session compiled(g, {.num_threads = 2}), reference(g, {.num_threads = 1, .optimize = false});
    compiled.initialize_variables();
    reference.initialize_variables();
    for (int step = 0; step < 3; ++step)
      EXPECT_TRUE(compiled.run({}, {loss}, {update.node})[0].bitwise_equal(reference.run({}, {loss}, {update.node})[0]));
  }
}

// Two layers, wide enough for several GEMM panels and whole-packet stores: the second
// layer's input-gradient product reads its weight's copy in the same step as the update
// that rewrites it, so it must run first (VariableAsBFloat16 is a view of the variable).
TEST(BFloat16VariableCopies, InputGradientProductReadsTheCopyBeforeTheUpdate) {
  for (int threads : {1, 2}) {
    Graph g;
    Output x = ops::Placeholder(g, f32, {64, 40}, "x");
    Output w1 = ops::Variable(g, Tensor::normal(f32, {40, 300}, 0, 0.2, 4), "w1");
    Output w2 = ops::Variable(g, Tensor::normal(f32, {300, 24}, 0, 0.2, 5), "w2");
    Output h = ops::Sigmoid(ops::MatMul(ops::Cast(x, bf16), ops::Cast(w1, bf16, "w1b")), "h");
    Output y = ops::MatMul(ops::Cast(h, bf16), ops::Cast(w2, bf16, "w2b"), false, false, "y");
    Output loss = ops::Mean(ops::Square(y), {}, false, "loss");
    const std::vector<Output> grads = autodiff::gradients({loss}, {w1, w2});
    Output u1 = ops::AssignSub(w1, grads[0] * 0.5, "u1"), u2 = ops::AssignSub(w2, grads[1] * 0.5, "u2");
    const Session::Feeds feeds{{x, normal({64, 40}, 6)}};
    compiler::Compilation c = compiler::compile(g, {loss}, {u1.node, u2.node}, testing::feed_specs(feeds),
                                                compiler::default_pipeline());
    EXPECT_EQ(testing::count_ops(c.graph, "VariableAsBFloat16"), 2);
    Session compiled(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
    compiled.initialize_variables();
    reference.initialize_variables();
    for (int step = 0; step < 4; ++step) {
      const Tensor a = compiled.run(feeds, {loss}, {u1.node, u2.node})[0];
      const Tensor b = reference.run(feeds, {loss}, {u1.node, u2.node})[0];
      EXPECT_TRUE(a.bitwise_equal(b)) << "threads " << threads << ", step " << step;
    }
    for (Output w : {w1, w2})
      EXPECT_TRUE(compiled.variable_value(w.node).bitwise_equal(reference.variable_value(w.node))) << w.name();
  }
}

// Compiled training (copies kept by the update, read by the next step) against the reference
// interpreter (a Cast every step), step by step, on 1 and 2 threads.
TEST(BFloat16VariableCopies, TrainingGivesTheReferenceBitsEveryStep) {
  for (int threads : {1, 2}) {
    MixedDenseStep m;
    Session compiled(m.g, {.num_threads = threads});
    Session reference(m.g, {.num_threads = threads, .optimize = false});
    compiled.initialize_variables();
    reference.initialize_variables();
    for (int step = 0; step < 4; ++step) {
      const std::vector<Tensor> got = compiled.run(m.feeds, {m.loss, m.y}, {m.update.node});
      const std::vector<Tensor> want = reference.run(m.feeds, {m.loss, m.y}, {m.update.node});
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_TRUE(got[i].bitwise_equal(want[i])) << "threads " << threads << ", step " << step << ", fetch " << i;
    }
    EXPECT_TRUE(compiled.variable_value(m.w.node).bitwise_equal(reference.variable_value(m.w.node)));
    // An inference run reads the copy the last step kept.
    EXPECT_TRUE(compiled.run(m.feeds, m.y).bitwise_equal(reference.run(m.feeds, m.y)));
  }
}

// Writes that keep no copy make it stale: set_variable_value, and an update in a run that
// reads no copy. The next read casts the new value; the fetched Cast of a training run is
// the weight from before the step.
TEST(BFloat16VariableCopies, EveryOtherWriteMakesTheCopyStale) {
  MixedDenseStep m;
  Output bump = ops::AssignAdd(m.w, ops::Const(m.g, Tensor::fill(f32, {6, 5}, 0.25)), "bump");
  Session compiled(m.g, {.num_threads = 2});
  Session reference(m.g, {.num_threads = 2, .optimize = false});
  compiled.initialize_variables();
  reference.initialize_variables();
  auto expect_same_y = [&](const std::string& after) {
    EXPECT_TRUE(compiled.run(m.feeds, m.y).bitwise_equal(reference.run(m.feeds, m.y))) << after;
  };
  for (Session* s : {&compiled, &reference}) s->run(m.feeds, {}, {m.update.node});
  expect_same_y("a training step");
  const Tensor fresh = normal({6, 5}, 7);
  for (Session* s : {&compiled, &reference}) s->set_variable_value(m.w.node, fresh);
  expect_same_y("set_variable_value");
  for (Session* s : {&compiled, &reference}) s->run(m.feeds, {}, {m.update.node});
  for (Session* s : {&compiled, &reference}) s->run({}, {}, {bump.node});
  expect_same_y("an AssignAdd after a training step");
  const Tensor before = reference.variable_value(m.w.node).cast(bf16);
  const std::vector<Tensor> got = compiled.run(m.feeds, {m.wb}, {m.update.node});
  EXPECT_TRUE(got[0].bitwise_equal(before)) << "the fetched cast of a training run";
  reference.run(m.feeds, {}, {m.update.node});
  expect_same_y("a training step that fetched the cast");
}

}  // namespace
}  // namespace horn
