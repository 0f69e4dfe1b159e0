// The graph a Session plan runs: a copy of the nodes one run needs (pruning), with every
// fed placeholder given the fed shape so that all shapes become concrete (shape
// specialisation). Passes rewrite this copy; the user's graph is never changed. Node names
// are kept, so variables (identified by name) and error messages still match.
#pragma once
#include <map>
#include <memory>
#include <vector>

#include "core/graph.h"

namespace horn::compiler {

struct FeedSpec {
  Output source;  // the fed output in the user's graph
  DType dtype;
  Shape shape;
};

struct CompiledGraph {
  std::unique_ptr<Graph> graph;
  std::vector<Output> fetches;  // in `graph`, one per requested fetch
  std::vector<Node*> targets;   // in `graph`
  std::vector<Node*> feeds;     // the Placeholders in `graph`, in feed order

  // Nodes the fetches and targets need, in a topological order (ties by node id).
  std::vector<Node*> live_nodes() const;
  int num_live() const { return static_cast<int>(live_nodes().size()); }
  // Every use of `from` (node inputs and fetches) becomes `to`; a target that is `from`'s
  // node becomes `to`'s.
  void replace_uses(Output from, Output to);
  // Per live node: how many live inputs read it; a node that is a control input of another
  // counts as read many times, so that no pass fuses it away.
  std::map<const Node*, int> use_counts() const;
  bool is_fetched(const Node* n) const;
  bool is_target(const Node* n) const;
  bool is_fed(const Node* n) const;
};

// Copies what `fetches` and `targets` need from `source`, stopping at fed outputs.
CompiledGraph clone_for(const Graph& source, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                        const std::vector<FeedSpec>& feeds);

}  // namespace horn::compiler
