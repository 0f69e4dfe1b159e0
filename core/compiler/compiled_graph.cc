#include "core/compiler/compiled_graph.h"

#include <algorithm>
#include <queue>

#include "core/graph_walk.h"
#include "core/op_registry.h"

namespace horn::compiler {

std::vector<Node*> CompiledGraph::live_nodes() const {
  const int n = graph->num_nodes();
  std::vector<Node*> roots = targets;
  for (const Output& f : fetches) roots.push_back(f.node);
  const std::vector<bool> live = ancestors(*graph, roots, Edges::kDataAndControl);
  // Kahn's algorithm: passes may make an old node consume a newer one, so ids alone are
  // not a topological order any more.
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<Node*>> successors(n);
  for (int id = 0; id < n; ++id) {
    if (!live[id]) continue;
    Node* node = graph->node(id);
    for (const Output& in : node->inputs) {
      ++indegree[id];
      successors[in.node->id].push_back(node);
    }
    for (Node* c : node->control_inputs) {
      ++indegree[id];
      successors[c->id].push_back(node);
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int id = 0; id < n; ++id)
    if (live[id] && indegree[id] == 0) ready.push(id);
  std::vector<Node*> order;
  while (!ready.empty()) {
    Node* node = graph->node(ready.top());
    ready.pop();
    order.push_back(node);
    for (Node* s : successors[node->id])
      if (--indegree[s->id] == 0) ready.push(s->id);
  }
  return order;
}

void CompiledGraph::replace_uses(Output from, Output to) {
  for (Node*& t : targets)  // a target run for its effect is now run by what replaced it
    if (t == from.node) t = to.node;
  for (const auto& node : graph->nodes())
    for (Output& in : node->inputs)
      if (in == from) in = to;
  for (Output& f : fetches)
    if (f == from) f = to;
}

std::map<const Node*, int> CompiledGraph::use_counts() const {
  std::map<const Node*, int> uses;
  for (const Node* n : live_nodes()) {
    for (const Output& in : n->inputs) ++uses[in.node];
    for (const Node* c : n->control_inputs) uses[c] += 1000;
  }
  return uses;
}

bool CompiledGraph::is_target(const Node* n) const {
  return std::find(targets.begin(), targets.end(), n) != targets.end();
}

bool CompiledGraph::is_fetched(const Node* n) const {
  return std::any_of(fetches.begin(), fetches.end(), [&](const Output& f) { return f.node == n; });
}

bool CompiledGraph::is_fed(const Node* n) const { return std::find(feeds.begin(), feeds.end(), n) != feeds.end(); }

CompiledGraph clone_for(const Graph& source, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                        const std::vector<FeedSpec>& feeds) {
  const int n = source.num_nodes();
  std::vector<int> fed_index(n, -1);
  for (size_t i = 0; i < feeds.size(); ++i) fed_index[feeds[i].source.node->id] = static_cast<int>(i);
  std::vector<Node*> roots = targets;
  for (const Output& f : fetches) roots.push_back(f.node);
  for (const FeedSpec& f : feeds) roots.push_back(f.source.node);  // fed but unused is allowed
  const std::vector<bool> needed =
      ancestors(source, roots, Edges::kDataAndControl, [&](const Node& node) { return fed_index[node.id] >= 0; });

  CompiledGraph out;
  out.graph = std::make_unique<Graph>();
  out.feeds.resize(feeds.size());
  std::vector<Node*> copy(n, nullptr);
  const OpDef& placeholder = OpRegistry::global().with_role(OpRole::kPlaceholder);
  for (int id = 0; id < n; ++id) {  // ids are creation order: inputs come first
    if (!needed[id]) continue;
    const Node* node = source.node(id);
    if (fed_index[id] >= 0) {
      const FeedSpec& f = feeds[fed_index[id]];
      copy[id] = out.graph->add_node(placeholder, {}, {{"dtype", f.dtype}, {"shape", f.shape}}, node->name);
      out.feeds[fed_index[id]] = copy[id];
      continue;
    }
    std::vector<Output> inputs;
    for (const Output& in : node->inputs) inputs.push_back(Output{copy[in.node->id], in.index});
    copy[id] = out.graph->add_node(*node->op, std::move(inputs), node->attrs, node->name);
  }
  for (int id = 0; id < n; ++id)
    if (needed[id] && fed_index[id] < 0)
      for (Node* c : source.node(id)->control_inputs) out.graph->add_control_input(copy[id], copy[c->id]);
  for (const Output& f : fetches) out.fetches.push_back(Output{copy[f.node->id], f.index});
  for (Node* t : targets) out.targets.push_back(copy[t->id]);
  return out;
}

}  // namespace horn::compiler
