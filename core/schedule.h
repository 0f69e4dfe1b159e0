// Execution order and dependency edges of a plan (internal to the Session).
//
// Ordering rule for variables: within one run, an op that writes a variable runs after
// every other op of that run that reads it, so a training step's gradients see the weights
// from before the step.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/graph.h"

namespace horn::runtime {

struct Schedule {
  std::vector<Node*> order;               // topological, depth first
  std::vector<std::vector<Node*>> edges;  // per node id: the nodes that must wait for it
};

// The execution order of everything `roots` need, not crossing fed nodes (per node id).
// Besides data and control edges, every write of a variable comes after every other read
// of it in the run. Fails on a cycle.
Schedule schedule(Graph& g, const std::vector<Node*>& roots, const std::vector<bool>& fed);

// What each node waits for when nodes run concurrently.
struct Dependencies {
  std::vector<std::vector<int>> successors;  // per node id, by position in the order
  std::vector<int> predecessors;             // per node id: how many edges come in
  std::vector<bool> spawn;                   // per node id: worth a task of its own
};

// The schedule's edges plus the memory plan's `reuse_edges` (reader, writer): a buffer is
// reused only after every node that made or read its previous value has finished. A node
// of at least `min_task_work` (OpDef::work) gets a task of its own.
Dependencies dependencies(const Graph& g, const Schedule& s,
                          const std::vector<std::pair<int, int>>& reuse_edges, int64_t min_task_work);

}  // namespace horn::runtime
