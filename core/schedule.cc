#include "core/schedule.h"

#include <algorithm>
#include <set>

#include "core/errors.h"
#include "core/graph_walk.h"
#include "core/op_registry.h"

namespace horn::runtime {
namespace {

std::vector<Node*> written_variables(const Node& writer) {
  std::vector<Node*> vars;
  for (int i : written_variable_inputs(writer)) vars.push_back(writer.inputs[i].node);
  return vars;
}

}  // namespace

Schedule schedule(Graph& g, const std::vector<Node*>& roots, const std::vector<bool>& fed) {
  const int n = g.num_nodes();
  const StopAt at_feeds = [&](const Node& node) { return fed[node.id]; };
  const std::vector<bool> needed = ancestors(g, roots, Edges::kDataAndControl, at_feeds);
  std::vector<std::vector<Node*>> consumers(n), successors(n);
  std::vector<int> indegree(n, 0);
  auto add_edge = [&](Node* from, Node* to) {
    successors[from->id].push_back(to);
    ++indegree[to->id];
  };
  for (int id = 0; id < n; ++id) {
    Node* node = g.node(id);
    if (!needed[id] || fed[id]) continue;
    for (const Output& in : node->inputs) {
      consumers[in.node->id].push_back(node);
      add_edge(in.node, node);
    }
    for (Node* c : node->control_inputs) add_edge(c, node);
  }
  for (int id = 0; id < n; ++id) {
    Node* writer = g.node(id);
    if (!needed[id] || fed[id] || !writer->op->has(kWritesVariable)) continue;
    std::vector<Node*> readers;
    for (Node* var : written_variables(*writer)) readers_through_views(*var, consumers, &readers);
    for (Node* r : readers)  // a reader computed from the write already follows it
      if (r != writer && !ancestors(g, {r}, Edges::kDataAndControl, at_feeds)[writer->id])
        add_edge(r, writer);
  }
  // Depth first: the node that became ready last runs next (ties: variable writers first,
  // then the lowest id). A value's consumers then run soon after it, so it dies soon: an
  // optimizer update runs as soon as it may, freeing its gradient before the next one is
  // made, which lowers peak memory.
  Schedule s;
  std::vector<int> ready;
  for (int id = n - 1; id >= 0; --id)
    if (needed[id] && indegree[id] == 0) ready.push_back(id);
  while (!ready.empty()) {
    Node* node = g.node(ready.back());
    ready.pop_back();
    s.order.push_back(node);
    std::vector<int> now_ready;
    for (Node* succ : successors[node->id])
      if (--indegree[succ->id] == 0) now_ready.push_back(succ->id);
    std::sort(now_ready.begin(), now_ready.end(), [&](int a, int b) {  // popped from the back
      const bool wa = g.node(a)->op->has(kWritesVariable), wb = g.node(b)->op->has(kWritesVariable);
      return wa != wb ? wb : a > b;
    });
    ready.insert(ready.end(), now_ready.begin(), now_ready.end());
  }
  if (s.order.size() != static_cast<size_t>(std::count(needed.begin(), needed.end(), true)))
    fail("Session::run: the graph has a cycle among the nodes needed for this run");
  s.edges = std::move(successors);
  return s;
}

Dependencies dependencies(const Graph& g, const Schedule& s,
                          const std::vector<std::pair<int, int>>& reuse_edges, int64_t min_task_work) {
  const int n = g.num_nodes();
  std::vector<int> step(n, -1);
  for (size_t i = 0; i < s.order.size(); ++i) step[s.order[i]->id] = static_cast<int>(i);
  std::vector<std::set<int>> after(n);
  for (Node* node : s.order)
    for (Node* succ : s.edges[node->id]) after[node->id].insert(succ->id);
  for (auto [reader, writer] : reuse_edges) after[reader].insert(writer);
  Dependencies d;
  d.successors.resize(n);
  d.predecessors.assign(n, 0);
  d.spawn.assign(n, false);
  for (Node* node : s.order) {
    std::vector<int>& out = d.successors[node->id];
    out.assign(after[node->id].begin(), after[node->id].end());
    std::sort(out.begin(), out.end(), [&](int a, int b) { return step[a] < step[b]; });
    for (int succ : out) ++d.predecessors[succ];
    d.spawn[node->id] = work_of(*node) >= min_task_work;
  }
  return d;
}

}  // namespace horn::runtime
