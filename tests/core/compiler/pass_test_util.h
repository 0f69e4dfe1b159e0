// Helpers for the compiler's per-pass tests: a compact listing of a graph's live nodes, to
// assert a pass's before and after graphs, and a check that a rewritten graph computes the
// same bits as the user's graph.
//
//   compiler::CompiledGraph c = prepare(g, {y}, {}, feeds);
//   EXPECT_EQ(listing(c), "x = Placeholder()\nc = Const(0.5)\ny = Add(x, c)\nfetch y\n");
//   EXPECT_TRUE(compiler::make_some_pass()->run(c));
//   expect_same_results(g, {y}, {}, feeds, c);
//
// Fused nodes are listed with their "ops" attribute, e.g. FusedElementwise[Mul,Add](x, c);
// their program encoding is deliberately not looked at.
#pragma once
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/compiler/compiled_graph.h"
#include "core/compiler/pass.h"
#include "tests/test_util.h"

namespace horn::testing {

// One line per node: "name = Op(input, input)"; scalar constants show their value, other
// constants their shape; with `shapes`, each line ends with the node's first output shape.
inline std::string listing(const std::vector<Node*>& nodes, bool shapes = false) {
  std::ostringstream s;
  for (const Node* n : nodes) {
    s << n->name << " = " << n->op_name();
    if (n->attrs.has("ops")) s << "[" << n->attrs.get<std::string>("ops") << "]";
    s << "(";
    if (n->op_name() == "Const") {
      const Tensor& v = n->attrs.get<Tensor>("value");
      if (v.size() == 1) s << v.value_as_double(0);
      else s << v.shape();
    }
    for (size_t i = 0; i < n->inputs.size(); ++i) s << (i ? ", " : "") << n->inputs[i].name();
    s << ")";
    for (size_t i = 0; i < n->control_inputs.size(); ++i) s << (i ? ", ^" : " ^") << n->control_inputs[i]->name;
    if (shapes && n->num_outputs() > 0) s << " " << n->output_shapes[0];
    s << "\n";
  }
  return s.str();
}

// The live nodes of a compiled graph in execution order, then its fetches and targets.
inline std::string listing(const compiler::CompiledGraph& c, bool shapes = false) {
  std::string s = listing(c.live_nodes(), shapes);
  for (const Output& f : c.fetches) s += "fetch " + f.name() + "\n";
  for (const Node* t : c.targets) s += "target " + t->name + "\n";
  return s;
}

// Every node of a user's graph, in creation order.
inline std::string listing(const Graph& g, bool shapes = false) {
  std::vector<Node*> nodes;
  for (const auto& n : g.nodes()) nodes.push_back(n.get());
  return listing(nodes, shapes);
}

inline std::vector<compiler::FeedSpec> feed_specs(const Session::Feeds& feeds) {
  std::vector<compiler::FeedSpec> specs;
  for (const auto& [out, value] : feeds) specs.push_back({out, value.dtype(), value.shape()});
  return specs;
}

// The pruned, specialised copy that passes rewrite (no pass has run on it yet).
inline compiler::CompiledGraph prepare(const Graph& g, const std::vector<Output>& fetches,
                                       const std::vector<Node*>& targets, const Session::Feeds& feeds) {
  return compiler::clone_for(g, fetches, targets, feed_specs(feeds));
}

inline int count_ops(const compiler::CompiledGraph& c, const std::string& op) {
  int n = 0;
  for (const Node* node : c.live_nodes()) n += node->op_name() == op;
  return n;
}

// The fetches after `steps` runs, then every variable's value by name.
struct RunResults {
  std::vector<Tensor> fetches;
  std::map<std::string, Tensor> variables;
};

// Runs `fetches` and `targets` `steps` times with the reference interpreter (no compiler).
inline RunResults run_reference(Graph& g, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                                const Session::Feeds& feeds, int steps = 1, int threads = 1) {
  Session s(g, {.num_threads = threads, .optimize = false});
  s.initialize_variables();
  RunResults r;
  for (int i = 0; i < steps; ++i) r.fetches = s.run(feeds, fetches, targets);
  for (Node* v : g.variables()) r.variables[v->name] = s.variable_value(v);
  return r;
}

// The same for a rewritten graph: its placeholders get the values fed to the user's.
inline RunResults run_reference(const compiler::CompiledGraph& c, const Session::Feeds& feeds, int steps = 1,
                                int threads = 1) {
  Session::Feeds mapped;
  for (size_t i = 0; i < feeds.size(); ++i) mapped.push_back({c.feeds[i]->output(), feeds[i].second});
  return run_reference(*c.graph, c.fetches, c.targets, mapped, steps, threads);
}

// The rewritten graph `c` computes the same bits (fetches and variables after `steps` runs)
// as the user's graph it was made from, both run node by node by the reference interpreter.
inline void expect_same_results(Graph& g, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                                const Session::Feeds& feeds, const compiler::CompiledGraph& c, int steps = 1,
                                int threads = 1) {
  const RunResults want = run_reference(g, fetches, targets, feeds, steps, threads);
  const RunResults got = run_reference(c, feeds, steps, threads);
  ASSERT_EQ(got.fetches.size(), want.fetches.size());
  for (size_t i = 0; i < want.fetches.size(); ++i)
    EXPECT_TRUE(got.fetches[i].bitwise_equal(want.fetches[i]))
        << "fetch " << i << ": " << got.fetches[i] << " vs " << want.fetches[i];
  for (const auto& [name, value] : want.variables) {
    auto it = got.variables.find(name);
    if (it == got.variables.end()) continue;  // pruned: not touched by this run
    EXPECT_TRUE(it->second.bitwise_equal(value)) << "variable " << name;
  }
}

}  // namespace horn::testing
