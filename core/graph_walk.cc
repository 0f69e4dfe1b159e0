#include "core/graph_walk.h"

#include "core/op_registry.h"

namespace horn {
namespace {

// Depth-first from `roots`; `next(node, push)` pushes the nodes one step away.
template <typename Next>
std::vector<bool> walk(const Graph& g, const std::vector<Node*>& roots, const StopAt& stop, Next next) {
  std::vector<bool> seen(g.num_nodes(), false);
  std::vector<Node*> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (seen[node->id]) continue;
    seen[node->id] = true;
    if (stop && stop(*node)) continue;
    next(*node, stack);
  }
  return seen;
}

}  // namespace

std::vector<bool> ancestors(const Graph& g, const std::vector<Node*>& roots, Edges edges,
                            const StopAt& stop) {
  return walk(g, roots, stop, [&](const Node& node, std::vector<Node*>& stack) {
    for (const Output& in : node.inputs) stack.push_back(in.node);
    if (edges == Edges::kDataAndControl)
      for (Node* c : node.control_inputs) stack.push_back(c);
  });
}

std::vector<bool> descendants(const Graph& g, const std::vector<Node*>& roots, Edges edges,
                              const StopAt& stop) {
  std::vector<std::vector<Node*>> consumers(g.num_nodes());
  for (const auto& node : g.nodes()) {
    for (const Output& in : node->inputs) consumers[in.node->id].push_back(node.get());
    if (edges == Edges::kDataAndControl)
      for (Node* c : node->control_inputs) consumers[c->id].push_back(node.get());
  }
  return walk(g, roots, stop, [&](const Node& node, std::vector<Node*>& stack) {
    stack.insert(stack.end(), consumers[node.id].begin(), consumers[node.id].end());
  });
}

void readers_through_views(const Node& source, const std::vector<std::vector<Node*>>& consumers,
                           std::vector<Node*>* readers, std::vector<Node*>* views) {
  for (Node* c : consumers[source.id]) {
    readers->push_back(c);
    const int k = viewed_input(*c);
    if (k < 0 || c->inputs[k].node != &source) continue;
    if (views) views->push_back(c);
    readers_through_views(*c, consumers, readers, views);
  }
}

std::vector<Node*> nodes_of(const std::vector<Output>& outputs) {
  std::vector<Node*> nodes;
  nodes.reserve(outputs.size());
  for (const Output& o : outputs) nodes.push_back(o.node);
  return nodes;
}

}  // namespace horn
