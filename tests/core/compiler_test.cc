// The graph compiler: each pass before and after, memory planning, the plan summary of the
// MNIST training step, DOT output, and a differential test of compiled plans against the
// reference interpreter on 1,000 random graphs with their gradients.
#include <cstdio>
#include <map>
#include <cstdlib>
#include <fstream>

#include "autodiff/gradients.h"
#include "core/compiler/compiler.h"
#include "core/compiler/memory_plan.h"
#include "core/op_registry.h"
#include "core/random.h"
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn {
namespace {
using compiler::clone_for;
using testing::F;

int count_ops(const compiler::CompiledGraph& g, const std::string& op) {
  int n = 0;
  for (Node* node : g.live_nodes()) n += node->op_name() == op;
  return n;
}

TEST(Compiler, CloneKeepsOnlyWhatTheFetchesNeedAndSpecialisesFedShapes) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 3}, "x");
  Output used = ops::Relu(x);
  ops::Exp(x);  // not fetched: pruned
  compiler::CompiledGraph c = clone_for(g, {used}, {}, {{x, DType::kFloat32, Shape{5, 3}}});
  EXPECT_EQ(c.num_live(), 2);
  EXPECT_EQ(c.fetches[0].shape(), (Shape{5, 3}));
  EXPECT_EQ(c.fetches[0].node->name, "Relu") << "names are kept";
}

TEST(Compiler, CommonSubexpressionEliminationMergesSameOpsButNotRandomOnes) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {4}, "x");
  Output a = ops::Exp(x), b = ops::Exp(x);
  Output r1 = ops::RandomUniformLike(x, 1), r2 = ops::RandomUniformLike(x, 1);
  Output y = a + b + r1 + r2;
  compiler::CompiledGraph c = clone_for(g, {y}, {}, {{x, DType::kFloat32, Shape{4}}});
  EXPECT_TRUE(compiler::make_common_subexpression_elimination()->run(c));
  EXPECT_EQ(count_ops(c, "Exp"), 1);
  EXPECT_EQ(count_ops(c, "RandomUniformLike"), 2);
  EXPECT_FALSE(compiler::make_common_subexpression_elimination()->run(c)) << "a second run finds nothing";
}

TEST(Compiler, ConstantFoldingEvaluatesConstantsAndShapeOnlyOps) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 2}, "x");
  Output k = ops::Exp(ops::Const(g, F({2}, {0, 1})));
  Output y = x * k + ops::Size(x, DType::kFloat32);
  compiler::CompiledGraph c = clone_for(g, {y}, {}, {{x, DType::kFloat32, Shape{3, 2}}});
  EXPECT_TRUE(compiler::make_constant_folding()->run(c));
  EXPECT_EQ(count_ops(c, "Exp"), 0);
  EXPECT_EQ(count_ops(c, "Size"), 0) << "the fed shape makes Size a constant";
  Session s(g);
  testing::expect_near(s.run({{x, F({3, 2}, {1, 1, 1, 1, 1, 1})}}, y), {3, 2},
                       {7, 6 + std::exp(1.0), 7, 6 + std::exp(1.0), 7, 6 + std::exp(1.0)});
}

TEST(Compiler, AlgebraicSimplificationRemovesIdentities) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2, 3}, "x");
  Output y = ops::Transpose(ops::Transpose(ops::Neg(ops::Neg(x * 1.0 + 0.0)))) / 1.0;
  Output z = ops::Reshape(ops::StopGradient(y), {2, 3});
  Output grown = x + ops::Const(g, Tensor::zeros(DType::kFloat32, {4, 2, 3}));  // broadcast: not an identity
  compiler::CompiledGraph c = clone_for(g, {z, grown}, {}, {{x, DType::kFloat32, Shape{2, 3}}});
  EXPECT_TRUE(compiler::make_algebraic_simplification()->run(c));
  EXPECT_EQ(c.fetches[0].node, c.feeds[0]) << "z simplifies to x itself";
  EXPECT_EQ(c.fetches[1].shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(c.fetches[1].node->op_name(), "Add");
}

TEST(Compiler, ElementwiseFusionMakesOneNodeAndMatchesTheUnfusedChainBitwise) {
  Graph g;
  const int64_t n = 300000;  // several blocks and a ragged tail
  Output a = ops::Placeholder(g, DType::kFloat32, {n / 100, 100}, "a");
  Output b = ops::Placeholder(g, DType::kFloat32, {100}, "b");
  Output y = ops::Sigmoid(ops::Tanh(a * b + a) - 0.5) * ops::Exp(-ops::Square(a));
  compiler::CompiledGraph c = clone_for(g, {y}, {}, {{a, DType::kFloat32, Shape{n / 100, 100}}, {b, DType::kFloat32, Shape{100}}});
  EXPECT_TRUE(compiler::make_elementwise_fusion()->run(c));
  EXPECT_EQ(count_ops(c, "FusedElementwise"), 1);
  EXPECT_EQ(c.num_live(), 4) << "two placeholders, the constant 0.5, one fused node";
  // The nine ops in a topological order (GCC builds the right operand of `*` first).
  EXPECT_EQ(c.fetches[0].node->attrs.get<std::string>("ops"), "Square,Neg,Exp,Mul,Add,Tanh,Sub,Sigmoid,Mul");
  Session::Feeds feeds{{a, Tensor::normal(DType::kFloat32, {n / 100, 100}, 0, 1, 3)},
                       {b, Tensor::normal(DType::kFloat32, {100}, 0, 1, 4)}};
  Session fused(g), reference(g, {.optimize = false});
  EXPECT_TRUE(fused.run(feeds, y).bitwise_equal(reference.run(feeds, y)));
}

TEST(Compiler, MatMulEpilogueFusionMatchesTheUnfusedOpsBitwise) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 784}, "x");
  Output w = ops::Const(g, Tensor::uniform(DType::kFloat32, {784, 500}, -0.1, 0.1, 1));
  Output b = ops::Const(g, Tensor::uniform(DType::kFloat32, {500}, -1, 1, 2));
  Output h = ops::Sigmoid(ops::MatMul(x, w) + b);                    // panels of 128 and 116 columns
  Output z = ops::Relu(ops::MatMul(h, w, false, true) - 0.25);       // transposed, row panels
  compiler::Compilation c = compiler::compile(g, {z}, {}, {{x, DType::kFloat32, Shape{100, 784}}});
  EXPECT_EQ(count_ops(c.graph, "FusedMatMul"), 2);
  EXPECT_EQ(count_ops(c.graph, "MatMul"), 0);
  Tensor xv = Tensor::uniform(DType::kFloat32, {100, 784}, 0, 1, 3);
  for (int threads : {1, 2}) {
    Session fused(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
    EXPECT_TRUE(fused.run({{x, xv}}, z).bitwise_equal(reference.run({{x, xv}}, z))) << threads << " threads";
  }
}

// Input fusion: sums and means of elementwise results over every layout kernels::reduce
// handles (everything in blocks, rows, a middle axis in column blocks), with the elementwise
// result also read elsewhere (multi-output) or not, in f32 and f64, on 1 and 2 threads.
TEST(Compiler, ReductionFusionMatchesTheUnfusedReductionBitwise) {
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    Graph g;
    Output a = ops::Placeholder(g, dt, {-1, 7, 700}, "a");
    Output b = ops::Placeholder(g, dt, {700}, "b");
    Output d = ops::Tanh(a * b) - a;  // also fetched itself: the fused node keeps it
    std::vector<Output> fetches{
        ops::Mean(ops::Square(a - b)),            // everything: several blocks of partials
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
    Session::Feeds feeds{{a, Tensor::normal(dt, shape, 0, 1, 3)}, {b, Tensor::normal(dt, {700}, 0, 1, 4)}};
    for (int threads : {1, 2}) {
      Session fused(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
      const std::vector<Tensor> x = fused.run(feeds, fetches), y = reference.run(feeds, fetches);
      for (size_t i = 0; i < x.size(); ++i)
        EXPECT_TRUE(x[i].bitwise_equal(y[i])) << dtype_name(dt) << ", fetch " << i << ", " << threads << " threads";
    }
  }
}

// The backward pass of a Dense layer: dZ = (dY W^T) * sigmoid'(h) and its column sum (the
// bias gradient) from one FusedMatMul, for column panels (each sums its own columns) and row
// panels (one pass at the end); and a column mean of a forward product.
TEST(Compiler, MatMulColumnSumFusionMatchesTheUnfusedOpsBitwise) {
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
    Session::Feeds feeds{{dy, Tensor::normal(DType::kFloat32, shape, 0, 1, 5)},
                         {h, Tensor::uniform(DType::kFloat32, shape, 0, 1, 6)}};
    for (int threads : {1, 2}) {
      Session s(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
      const std::vector<Tensor> x = s.run(feeds, fetches), y = reference.run(feeds, fetches);
      for (size_t i = 0; i < x.size(); ++i)
        EXPECT_TRUE(x[i].bitwise_equal(y[i])) << "fetch " << i << ", " << batch << " rows, " << threads << " threads";
    }
  }
}

// A weight-gradient GEMM read only by an optimizer-style update of the weight and a slot:
// one FusedMatMulAssign that updates each panel of dW as it is made, for row panels, column
// panels and a single block; never when the GEMM reads a variable the update writes.
TEST(Compiler, MatMulUpdateFusionMatchesTheUnfusedOpsBitwise) {
  struct Case {
    int64_t batch, in, out;
  };
  for (const Case& c : {Case{100, 784, 500}, Case{100, 300, 600}, Case{8, 3, 6}}) {
    SCOPED_TRACE(std::to_string(c.in) + "x" + std::to_string(c.out));
    Graph g;
    Output x = ops::Placeholder(g, DType::kFloat32, {c.batch, c.in}, "x");
    Output dz = ops::Placeholder(g, DType::kFloat32, {c.batch, c.out}, "dz");
    Output w = ops::Variable(g, Tensor::uniform(DType::kFloat32, {c.in, c.out}, -1, 1, 1), "w");
    Output m = ops::Variable(g, Tensor::zeros(DType::kFloat32, {c.in, c.out}), "m");
    Output grad = ops::MatMul(x, dz, true, false);
    Output m_new = ops::Assign(m, m * 0.9 + grad * 0.1);
    Node* update = ops::AssignSub(w, m_new * 0.01 + ops::Square(grad) * 0.001).node;
    // A second variable whose update reads it through the GEMM: not fused.
    Output v = ops::Variable(g, Tensor::uniform(DType::kFloat32, {c.in, c.out}, -1, 1, 2), "v");
    Output s = ops::Const(g, Tensor::uniform(DType::kFloat32, {c.out, c.out}, -0.1, 0.1, 3));
    Node* self_update = ops::AssignSub(v, ops::Tanh(ops::MatMul(v, s)) * 0.5).node;
    const Session::Feeds feeds{{x, Tensor::normal(DType::kFloat32, {c.batch, c.in}, 0, 1, 4)},
                               {dz, Tensor::normal(DType::kFloat32, {c.batch, c.out}, 0, 1, 5)}};
    compiler::Compilation compiled = compiler::compile(g, {}, {update, self_update}, {});
    EXPECT_EQ(count_ops(compiled.graph, "FusedMatMulAssign"), 1);
    EXPECT_EQ(count_ops(compiled.graph, "MatMul"), 1) << "v's own product stays unfused";
    for (int threads : {1, 2}) {
      Session fused(g, {.num_threads = threads}), reference(g, {.num_threads = threads, .optimize = false});
      for (Session* session : {&fused, &reference}) {
        session->initialize_variables();
        for (int step = 0; step < 3; ++step) session->run(feeds, {}, {update, self_update});
      }
      for (Output var : {w, m, v})
        EXPECT_TRUE(fused.variable_value(var.node).bitwise_equal(reference.variable_value(var.node)))
            << var.name() << ", " << threads << " threads";
    }
  }
}

TEST(Compiler, MemoryPlanReusesBuffersAndWritesInPlace) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {256, 256}, "x");
  Output w = ops::Const(g, Tensor::uniform(DType::kFloat32, {256, 256}, -0.1, 0.1, 1));
  Output h = x;
  for (int i = 0; i < 6; ++i) h = ops::Sigmoid(ops::MatMul(h, w));  // each value dies at its consumer
  Output y = ops::Sum(h);
  // The planner alone, on the unfused copy: every Sigmoid can overwrite its MatMul's output.
  compiler::CompiledGraph c = clone_for(g, {y}, {}, {{x, DType::kFloat32, Shape{256, 256}}});
  const std::vector<Node*> order = c.live_nodes();
  std::vector<bool> fed(c.graph->num_nodes(), false);
  fed[c.feeds[0]->id] = true;
  const compiler::MemoryPlan plan = compiler::plan_memory(*c.graph, order, c.fetches, fed);
  EXPECT_EQ(plan.in_place, 6);
  EXPECT_EQ(plan.unshared_bytes, 12 * 256 * 256 * 4);
  EXPECT_EQ(plan.arena_bytes, 2 * 256 * 256 * 4) << "two buffers take turns";
  // And through a Session (with fusion), against the reference interpreter.
  Tensor xv = Tensor::uniform(DType::kFloat32, {256, 256}, -1, 1, 2);
  Session s(g), reference(g, {.optimize = false});
  EXPECT_TRUE(s.run({{x, xv}}, y).bitwise_equal(reference.run({{x, xv}}, y)));
}

// The seed model's training step: 784-500 sigmoid-500 sigmoid-10 softmax, Adam, batch 100.
TEST(Compiler, MnistTrainingStepPlan) {
  using namespace keras;
  Sequential m;
  m.add(Dense(500, {.input_dim = 784, .activation = "sigmoid"}));
  m.add(Dense(500, {.activation = "sigmoid"}));
  m.add(Dense(10, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  Session s(m.graph());
  s.initialize_variables();
  const compiler::PlanSummary& p = s.plan_summary({{m.input(), Tensor::zeros(DType::kFloat32, {100, 784})},
                                                   {m.target(), Tensor::zeros(DType::kFloat32, {100, 10})}},
                                                  {m.total_loss()}, m.training_updates());
  std::cout << p.to_string();
  EXPECT_LT(p.passes.back().second, p.passes.front().second / 3) << "passes removed most nodes";
  int updates = 0;
  for (const std::string& f : p.fusions) updates += f.find("AssignSub") != std::string::npos;
  EXPECT_EQ(updates, 6) << "one fused Adam update (weight, m and v) per variable";
  int epilogues = 0;
  for (const std::string& f : p.fusions) epilogues += f.find("<- MatMul,") != std::string::npos;
  EXPECT_GE(epilogues, 5) << "forward bias+activation and backward activation-gradient epilogues";
  int bias_gradients = 0;
  for (const std::string& f : p.fusions) bias_gradients += f.ends_with(",ReduceToShapeLike");
  EXPECT_EQ(bias_gradients, 3) << "each bias gradient summed in the pass that makes dZ";
  int weight_updates = 0;
  for (const std::string& f : p.fusions) weight_updates += f.find("<- MatMul,Mul,") != std::string::npos;
  EXPECT_EQ(weight_updates, 3) << "each weight gradient GEMM fused with its Adam update";
  // Memory. Fusion leaves few values to store: the three 200 KB activations / dZ of the
  // backward pass must coexist (dZ1 = (dZ2 W2^T) * sigmoid'(a1) needs a1 and dZ2, and W2's
  // update, which also reads a1, waits for it), so the peak is ~75% of what this plan still
  // stores. Against every value of the unfused step (the memory of running the step with
  // neither fusion nor reuse) it is a small fraction, and it is below dW1 alone (1.57 MB),
  // which is never stored whole.
  EXPECT_LE(p.arena_bytes * 2, p.unfused_unshared_bytes) << "peak at most half the step's no-reuse sum";
  EXPECT_LT(p.arena_bytes, 784 * 500 * 4);
  // The planner on its own, on the step before fusion: buffers shared once dead.
  std::vector<std::unique_ptr<compiler::Pass>> no_fusion;
  no_fusion.push_back(compiler::make_algebraic_simplification());
  no_fusion.push_back(compiler::make_constant_folding());
  no_fusion.push_back(compiler::make_common_subexpression_elimination());
  compiler::Compilation unfused = compiler::compile(
      m.graph(), {m.total_loss()}, m.training_updates(),
      {{m.input(), DType::kFloat32, Shape{100, 784}}, {m.target(), DType::kFloat32, Shape{100, 10}}}, std::move(no_fusion));
  std::vector<bool> fed(unfused.graph.graph->num_nodes(), false);
  for (const Node* f : unfused.graph.feeds) fed[f->id] = true;
  const compiler::MemoryPlan plan =
      compiler::plan_memory(*unfused.graph.graph, unfused.graph.live_nodes(), unfused.graph.fetches, fed);
  std::cout << "unfused: peak " << plan.arena_bytes << " of " << plan.unshared_bytes << " bytes without reuse\n";
  EXPECT_LE(plan.arena_bytes * 2, plan.unshared_bytes) << "the planner alone halves the unfused step's memory";
  EXPECT_LT(p.arena_bytes * 4, plan.arena_bytes) << "fusion lowers the peak further";
}

TEST(Compiler, DotShowsFusedClustersAndParsesWithGraphviz) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {8}, "x");
  Output y = ops::Sigmoid(x * 2.0 + 1.0);
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp ? tmp : "/tmp";
  Session s(g, {.dump_dot_dir = dir});
  s.run({{x, Tensor::ones(DType::kFloat32, {8})}}, y);
  std::ifstream after(dir + "/plan_0_after.dot");
  const std::string dot((std::istreambuf_iterator<char>(after)), std::istreambuf_iterator<char>());
  EXPECT_NE(dot.find("subgraph cluster_"), std::string::npos) << dot;
  EXPECT_NE(dot.find("fused: Mul Add Sigmoid"), std::string::npos) << dot;
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    const std::string cmd = "dot -Tsvg " + dir + "/plan_0_after.dot -o " + dir + "/plan.svg && dot -Tsvg " + dir +
                            "/plan_0_before.dot -o " + dir + "/before.svg";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "Graphviz rejected the DOT output";
  }
}

// A layer's two halves that do not depend on each other run at the same time on two
// threads, with the same bits as one at a time and as one thread.
TEST(Compiler, IndependentNodesRunConcurrently) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {256, 256}, "x");
  Output w1 = ops::Const(g, Tensor::uniform(DType::kFloat32, {256, 256}, -0.1, 0.1, 1));
  Output w2 = ops::Const(g, Tensor::uniform(DType::kFloat32, {256, 256}, -0.1, 0.1, 2));
  Output a = ops::Tanh(ops::MatMul(x, w1)), b = ops::Sigmoid(ops::MatMul(x, w2));
  Output y = ops::Sum(a * b, {0});
  std::vector<Output> fetches{y};
  for (Output gx : autodiff::gradients({ops::Sum(y)}, {x})) fetches.push_back(gx);
  const Session::Feeds feeds{{x, Tensor::uniform(DType::kFloat32, {256, 256}, -1, 1, 3)}};
  Session concurrent(g, {.num_threads = 2}), one_at_a_time(g, {.num_threads = 2, .concurrent_nodes = false}),
      one_thread(g, {.num_threads = 1});
  std::vector<Tensor> first = concurrent.run(feeds, fetches);
  for (int i = 0; i < 20; ++i) {
    const std::vector<Tensor> again = concurrent.run(feeds, fetches);
    for (size_t j = 0; j < first.size(); ++j) ASSERT_TRUE(again[j].bitwise_equal(first[j])) << "run " << i;
  }
  EXPECT_GE(concurrent.most_concurrent_nodes(), 2) << "the two MatMuls (and their gradients) overlap";
  for (Session* s : {&one_at_a_time, &one_thread}) {
    const std::vector<Tensor> other = s->run(feeds, fetches);
    for (size_t j = 0; j < first.size(); ++j) EXPECT_TRUE(other[j].bitwise_equal(first[j])) << j;
    EXPECT_EQ(s->most_concurrent_nodes(), 1);
  }
}

TEST(Compiler, ProfileReportListsNodesByTime) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {64, 64}, "x");
  Output y = ops::MatMul(x, x, false, false, "product");
  Session s(g, {.profile = true});
  for (int i = 0; i < 3; ++i) s.run({{x, Tensor::ones(DType::kFloat32, {64, 64})}}, y);
  const std::string report = s.profile_report();
  EXPECT_NE(report.find("product"), std::string::npos) << report;
  EXPECT_NE(report.find("MatMul"), std::string::npos) << report;
}

// Fused optimizer updates (stores into variables) against the reference interpreter, for
// every optimizer, over several steps: the weights must agree bit for bit.
TEST(CompilerDifferential, EveryOptimizersTrainingStepsMatchTheReferenceBitwise) {
  using namespace keras;
  for (const std::string& name : optimizers::names()) {
    SCOPED_TRACE(name);
    for (const std::string variant : {"default", "tuned"}) {
      Sequential m({.seed = 5});
      m.add(Dense(6, {.input_dim = 3, .activation = "tanh"}));
      m.add(Dense(2, {.activation = "softmax"}));
      std::shared_ptr<optimizers::Optimizer> opt = optimizers::get(name);
      if (variant == "tuned") {
        std::map<std::string, double> config = opt->config();
        for (auto& [k, v] : config)
          if (k == "momentum" || k == "nesterov" || k == "amsgrad") v = k == "momentum" ? 0.9 : 1;
          else if (k == "decay") v = 0.01;
        opt = optimizers::from_config(name, config);
      }
      m.compile({.loss = "categorical_crossentropy", .optimizer = opt});
      Session compiled(m.graph()), reference(m.graph(), {.optimize = false});
      compiled.initialize_variables();
      reference.initialize_variables();
      Tensor y = Tensor::zeros(DType::kFloat32, {8, 2});
      for (int i = 0; i < 8; ++i) y.at<float>({i, i % 2}) = 1;
      const Session::Feeds feeds{{m.input(), Tensor::normal(DType::kFloat32, {8, 3}, 0, 1, 9)}, {m.target(), y}};
      for (int step = 0; step < 4; ++step) {
        compiled.run(feeds, {m.total_loss()}, m.training_updates());
        reference.run(feeds, {m.total_loss()}, m.training_updates());
      }
      int fused_updates = 0;
      for (const std::string& f : compiled.plan_summary(feeds, {m.total_loss()}, m.training_updates()).fusions)
        fused_updates += f.find("Assign") != std::string::npos;
      EXPECT_GT(fused_updates, 0) << variant;
      for (Node* var : m.graph().variables())
        EXPECT_TRUE(compiled.variable_value(var).bitwise_equal(reference.variable_value(var)))
            << variant << ": " << var->name;
    }
  }
}

// ---- differential test ----

// A random graph of elementwise, broadcast, matmul, reduction and reshape ops, with the
// gradients of its sum with respect to its inputs. Values stay bounded (tanh squashes).
struct RandomGraph {
  Graph g;
  std::vector<Output> inputs, fetches;
  Session::Feeds feeds;
  std::string listing;
};

void build_random_graph(uint64_t seed, RandomGraph& r) {
  uint64_t draw = 0;
  auto pick = [&](int64_t n) { return static_cast<int64_t>(random::bits(seed, 77, draw++) % n); };
  Graph& g = r.g;
  std::vector<Output> pool;
  auto dims = [&] { return std::vector<int64_t>{1, 3, 4, 5}[pick(4)]; };
  auto add_input = [&](Shape s, bool unknown_batch) {
    Shape declared = s;
    if (unknown_batch && s.rank() > 0) declared.set_dim(0, -1);
    Output p = ops::Placeholder(g, DType::kFloat32, declared, "in" + std::to_string(r.inputs.size()));
    r.inputs.push_back(p);
    r.feeds.push_back({p, Tensor::uniform(DType::kFloat32, s, -1.5, 1.5, seed * 31 + r.inputs.size())});
    pool.push_back(p);
    return p;
  };
  add_input(Shape{dims(), dims()}, true);
  add_input(Shape{dims()}, false);
  auto shape_of = [&](Output o) {  // concrete, though placeholders may declare -1
    std::vector<compiler::FeedSpec> specs;
    for (auto& [p, v] : r.feeds) specs.push_back({p, v.dtype(), v.shape()});
    return clone_for(g, {o}, {}, specs).fetches[0].shape();
  };
  auto operand_for = [&](Output x) -> Output {  // something that broadcasts with x
    const Shape s = shape_of(x);
    for (int tries = 0; tries < 4; ++tries) {
      Output c = pool[pick(pool.size())];
      Shape b;
      if (broadcast_shapes(shape_of(c), s, &b) && b == s) return c;
    }
    switch (pick(4)) {
      case 0: return ops::Scalar(g, pick(3) == 0 ? 1.0 : 0.5 * (pick(5) - 2));
      case 1: return s.rank() ? add_input(Shape{s.dim(-1)}, false) : ops::Scalar(g, 0.0);
      default: return ops::Const(g, Tensor::uniform(DType::kFloat32, s, -1, 1, seed + draw));
    }
  };
  const int steps = 6 + static_cast<int>(pick(10));
  for (int i = 0; i < steps; ++i) {
    Output x = pool[pick(pool.size())];
    const Shape s = shape_of(x);
    Output y;
    switch (pick(12)) {
      case 0: y = ops::Tanh(x); break;
      case 1: y = ops::Sigmoid(x) * operand_for(x); break;
      case 2: y = ops::Relu(x - operand_for(x)); break;
      case 3: y = ops::Exp(ops::Tanh(x)) + operand_for(x); break;
      case 4: y = ops::Maximum(x, operand_for(x)); break;
      case 5: y = x / (ops::Softplus(operand_for(x)) + 0.5); break;
      case 6:
        if (s.rank() == 2) {
          Output w = ops::Const(g, Tensor::uniform(DType::kFloat32, {s.dim(1), dims()}, -1, 1, seed + i));
          y = ops::Tanh(ops::MatMul(x, w));
        } else {
          y = ops::Square(x);
        }
        break;
      case 7: y = s.rank() ? ops::Sum(x, {-1}, pick(2) == 1) : ops::Neg(x); break;
      case 8: y = s.rank() ? ops::Mean(x, {0}, pick(2) == 1) : ops::Abs(x); break;
      case 9: y = s.rank() ? ops::Max(x, {}, false) : ops::Softsign(x); break;
      case 10: y = s.rank() == 2 ? ops::Transpose(x) : ops::Reshape(x, {-1}); break;
      default: y = ops::Exp(ops::Tanh(x)) * ops::Exp(ops::Tanh(x)); break;  // a CSE candidate
    }
    pool.push_back(y);
  }
  Output loss = ops::Sum(pool.back());
  for (size_t i = pool.size() - 3; i < pool.size(); ++i) r.fetches.push_back(pool[i]);
  for (const Output& gx : autodiff::gradients({loss}, r.inputs, {}, {autodiff::Unconnected::kZero})) r.fetches.push_back(gx);
  for (const auto& n : g.nodes()) {
    r.listing += "  " + n->name + " = " + n->op_name() + "(";
    for (const Output& in : n->inputs) r.listing += in.name() + " ";
    r.listing += ") " + n->output_shapes[0].to_string() + "\n";
  }
}

TEST(CompilerDifferential, ThousandRandomGraphsMatchTheReferenceInterpreterBitwise) {
  int fused = 0, reductions = 0, overlapped = 0;
  for (uint64_t seed = 1; seed <= 1000; ++seed) {
    RandomGraph r;
    build_random_graph(seed, r);
    // Every node in a task of its own (these nodes are tiny): independent nodes overlap, so
    // a buffer reused before its last reader finished would show here.
    Session compiled(r.g, {.num_threads = 2, .min_task_work = 0}), reference(r.g, {.optimize = false});
    const std::vector<Tensor> b = reference.run(r.feeds, r.fetches);
    std::vector<Tensor> a;
    for (int run = 0; run < 3; ++run) {  // overlaps differ from run to run
      a = compiled.run(r.feeds, r.fetches);
      for (size_t i = 0; i < a.size(); ++i)
        ASSERT_TRUE(a[i].bitwise_equal(b[i])) << "seed " << seed << ", run " << run << ", fetch " << i << ": compiled "
                                              << a[i] << " vs reference " << b[i] << "\ngraph:\n" << r.listing;
    }
    const std::vector<std::string>& fusions = compiled.plan_summary(r.feeds, r.fetches).fusions;
    fused += !fusions.empty();
    overlapped += compiled.most_concurrent_nodes() > 1;
    for (const std::string& f : fusions)
      reductions += f.ends_with(",Sum") || f.ends_with(",Mean") || f.ends_with(",ReduceToShapeLike");
  }
  EXPECT_GT(fused, 500) << "most random graphs exercise fusion";
  EXPECT_GT(reductions, 300) << "and many exercise reduction fusion";
  std::cout << fused << " graphs with fusions, " << reductions << " fused reductions, " << overlapped
            << " ran nodes concurrently\n";
}

}  // namespace
}  // namespace horn
