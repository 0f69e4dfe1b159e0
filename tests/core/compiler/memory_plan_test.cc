// Memory planning: intermediate buffers share one arena once their values are dead, an
// elementwise op may write over an input of its exact shape that dies at it, fed and fetched
// values stay outside, and a buffer placed over a dead value waits for everything that
// touched that value (reuse edges, for the concurrent executor).
#include <set>

#include "autodiff/gradients.h"
#include "core/compiler/compiler.h"
#include "core/compiler/memory_plan.h"
#include "core/op_registry.h"
#include "tests/core/compiler/pass_test_util.h"

namespace horn {
namespace {
using compiler::MemoryPlan;

MemoryPlan plan_for(const compiler::CompiledGraph& c) {
  std::vector<bool> fed(c.graph->num_nodes(), false);
  for (const Node* f : c.feeds) fed[f->id] = true;
  return compiler::plan_memory(*c.graph, c.live_nodes(), c.fetches, fed);
}

int64_t offset_of(const MemoryPlan& plan, Output o) { return plan.offset[o.node->id][o.index]; }

// The plan's invariants, checked independently of how the planner finds them, for the
// order live_nodes() gives: values whose lifetimes overlap never share bytes (but an
// elementwise op may write over an input whose last reader it is), and a value placed over
// the bytes of an earlier one waits for every node that made or read that one: a path of
// data, control and reuse edges leads from each of them to its writer.
void expect_plan_is_safe(const compiler::CompiledGraph& c, const MemoryPlan& plan) {
  const std::vector<Node*> order = c.live_nodes();
  std::map<const Node*, int> step;
  for (size_t i = 0; i < order.size(); ++i) step[order[i]] = static_cast<int>(i);
  // Views (Reshape, an Assign's result, ...) keep the buffer they look at alive.
  std::map<std::pair<int, int>, std::pair<int, int>> root;
  auto root_of = [&](const Output& o) {
    auto it = root.find({o.node->id, o.index});
    return it == root.end() ? std::make_pair(o.node->id, o.index) : it->second;
  };
  for (Node* n : order)
    if (const int k = viewed_input(*n); k >= 0) root[{n->id, 0}] = root_of(n->inputs[k]);
  std::map<std::pair<int, int>, std::set<const Node*>> touched;  // producer and readers
  for (Node* n : order)
    for (const Output& in : n->inputs) touched[root_of(in)].insert(n);
  struct Value {
    Output out;
    int64_t at, bytes;
    int born, dies;
  };
  std::vector<Value> values;
  for (Node* n : order)
    for (int o = 0; o < n->num_outputs(); ++o) {
      const int64_t at = plan.offset[n->id][o];
      if (at < 0) continue;
      const int64_t raw =
          n->output_shapes[o].num_elements() * static_cast<int64_t>(dtype_size(n->output_dtypes[o]));
      int dies = step[n];
      for (const Node* r : touched[{n->id, o}]) dies = std::max(dies, step[r]);
      values.push_back({n->output(o), at, (raw + 63) / 64 * 64, step[n], dies});
      touched[{n->id, o}].insert(n);
    }
  std::map<int, std::vector<int>> next;
  for (auto [from, to] : plan.reuse_edges) next[from].push_back(to);
  for (Node* n : order) {
    for (const Output& in : n->inputs) next[in.node->id].push_back(n->id);
    for (const Node* ci : n->control_inputs) next[ci->id].push_back(n->id);
  }
  auto waits_for = [&](const Node* writer, const Node* t) {
    std::set<int> seen{t->id};
    std::vector<int> stack{t->id};
    while (!stack.empty()) {
      const int id = stack.back();
      stack.pop_back();
      if (id == writer->id) return true;
      for (int s : next[id])
        if (seen.insert(s).second) stack.push_back(s);
    }
    return false;
  };
  for (const Value& a : values)
    for (const Value& b : values) {
      if (a.out == b.out || a.born > b.born || (a.born == b.born && a.out.index > b.out.index)) continue;
      if (a.at + a.bytes <= b.at || b.at + b.bytes <= a.at) continue;  // disjoint bytes
      const Node* writer = b.out.node;
      bool reads_a = false;
      for (const Output& in : writer->inputs)
        reads_a |= root_of(in) == std::make_pair(a.out.node->id, a.out.index);
      const bool in_place = a.dies == b.born && reads_a && writer->inputs.size() > 0 && a.out.node != writer;
      EXPECT_TRUE(a.dies < b.born || in_place)
          << a.out.name() << " (steps " << a.born << "-" << a.dies << ") and " << b.out.name() << " (from step "
          << b.born << ") share bytes while both are live";
      for (const Node* t : touched[{a.out.node->id, a.out.index}]) {
        if (t != writer) {
          EXPECT_TRUE(waits_for(writer, t))
              << writer->name << " writes over " << a.out.name() << " but need not wait for " << t->name;
        }
      }
    }
}

TEST(MemoryPlan, ReusesBuffersAndWritesInPlace) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {256, 256}, "x");
  Output w = ops::Const(g, Tensor::uniform(DType::kFloat32, {256, 256}, -0.1, 0.1, 1));
  Output h = x;
  for (int i = 0; i < 6; ++i) h = ops::Sigmoid(ops::MatMul(h, w));  // each value dies at its consumer
  Output y = ops::Sum(h);
  // The planner alone, on the unfused copy: every Sigmoid can overwrite its MatMul's output.
  compiler::CompiledGraph c = compiler::clone_for(g, {y}, {}, {{x, DType::kFloat32, Shape{256, 256}}});
  const MemoryPlan plan = plan_for(c);
  EXPECT_EQ(plan.in_place, 6);
  EXPECT_EQ(plan.unshared_bytes, 12 * 256 * 256 * 4);
  EXPECT_EQ(plan.arena_bytes, 2 * 256 * 256 * 4) << "two buffers take turns";
  expect_plan_is_safe(c, plan);
  // And through a Session (with fusion), against the reference interpreter.
  Tensor xv = Tensor::uniform(DType::kFloat32, {256, 256}, -1, 1, 2);
  Session s(g), reference(g, {.optimize = false});
  EXPECT_TRUE(s.run({{x, xv}}, y).bitwise_equal(reference.run({{x, xv}}, y)));
}

// Fed values belong to the caller and fetched ones (also through a view) are returned to it.
TEST(MemoryPlan, FedAndFetchedValuesStayOutOfTheArena) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {8, 8}, "x");
  Output t = ops::Exp(x, "t");
  Output viewed = ops::Reshape(ops::Tanh(t, "u"), {64}, "viewed");
  Output y = ops::Sum(ops::Square(t, "sq"), {}, false, "y");
  const Session::Feeds feeds{{x, Tensor::ones(DType::kFloat32, {8, 8})}};
  compiler::CompiledGraph c = testing::prepare(g, {viewed, y}, {}, feeds);
  const MemoryPlan plan = plan_for(c);
  EXPECT_EQ(offset_of(plan, c.feeds[0]->output()), -1);
  EXPECT_EQ(offset_of(plan, c.fetches[1]), -1);
  EXPECT_EQ(plan.offset[c.graph->find_node("u")->id][0], -1) << "the fetched Reshape is a view of it";
  EXPECT_GE(plan.offset[c.graph->find_node("t")->id][0], 0);
  EXPECT_GE(plan.offset[c.graph->find_node("sq")->id][0], 0);
  expect_plan_is_safe(c, plan);
}

// A [1] and a [16] float buffer both round up to 64 bytes, but the [1] operand is broadcast,
// read again for every output element: never written over.
TEST(MemoryPlan, InPlaceOnlyOverAnOperandOfTheOutputsShape) {
  for (int64_t n : {1, 16}) {
    Graph g;
    Output x = ops::Placeholder(g, DType::kFloat32, {n}, "x");
    Output t = ops::Exp(x, "t");
    Output k = ops::Const(g, Tensor::ones(DType::kFloat32, {16}), "k");
    Output y = ops::Sum(ops::Add(t, k, "a"), {}, false, "y");
    compiler::CompiledGraph c = testing::prepare(g, {y}, {}, {{x, Tensor::ones(DType::kFloat32, {n})}});
    const MemoryPlan plan = plan_for(c);
    EXPECT_EQ(plan.in_place, n == 16 ? 1 : 0) << n;
    auto at = [&](const char* name) { return plan.offset[c.graph->find_node(name)->id][0]; };
    EXPECT_EQ(at("a") == at("t"), n == 16);
    expect_plan_is_safe(c, plan);
  }
}

// t is read by u and again by v: u may not overwrite it, v may overwrite either.
TEST(MemoryPlan, DoesNotWriteOverAValueReadLater) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {32}, "x");
  Output t = ops::Exp(x, "t");
  Output u = ops::Tanh(t, "u");
  Output y = ops::Sum(ops::Mul(u, t, "v"), {}, false, "y");
  compiler::CompiledGraph c = testing::prepare(g, {y}, {}, {{x, Tensor::ones(DType::kFloat32, {32})}});
  const MemoryPlan plan = plan_for(c);
  auto at = [&](const char* name) { return plan.offset[c.graph->find_node(name)->id][0]; };
  EXPECT_NE(at("u"), at("t"));
  EXPECT_EQ(plan.in_place, 1);
  EXPECT_TRUE(at("v") == at("t") || at("v") == at("u"));
  expect_plan_is_safe(c, plan);
}

// A two-layer network's SGD step, unfused and compiled: the invariants hold on both.
TEST(MemoryPlan, TrainingStepPlansAreSafe) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 20}, "x");
  Output w1 = ops::Variable(g, Tensor::uniform(DType::kFloat32, {20, 30}, -0.3, 0.3, 1), "w1");
  Output b1 = ops::Variable(g, Tensor::zeros(DType::kFloat32, {30}), "b1");
  Output w2 = ops::Variable(g, Tensor::uniform(DType::kFloat32, {30, 5}, -0.3, 0.3, 2), "w2");
  Output h = ops::Sigmoid(ops::MatMul(x, w1) + b1);
  Output loss = ops::Mean(ops::Square(ops::Tanh(ops::MatMul(h, w2)) - 0.5));
  std::vector<Node*> updates;
  const std::vector<Output> vars{w1, b1, w2};
  const std::vector<Output> grads = autodiff::gradients({loss}, vars);
  for (size_t i = 0; i < vars.size(); ++i) updates.push_back(ops::AssignSub(vars[i], grads[i] * 0.1).node);
  const std::vector<compiler::FeedSpec> feeds{{x, DType::kFloat32, Shape{16, 20}}};
  compiler::CompiledGraph unfused = compiler::clone_for(g, {loss}, updates, feeds);
  expect_plan_is_safe(unfused, plan_for(unfused));
  compiler::Compilation fused = compiler::compile(g, {loss}, updates, feeds);
  const MemoryPlan plan = plan_for(fused.graph);
  EXPECT_GT(plan.in_place + static_cast<int>(plan.reuse_edges.size()), 0) << "something is shared";
  expect_plan_is_safe(fused.graph, plan);
}

}  // namespace
}  // namespace horn
