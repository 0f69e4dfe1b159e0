// The graph compiler: turns (a graph, fetches, targets, feed shapes) into the graph a plan
// runs, through the pass pipeline, and reports what each step did.
//
//   prune + specialise (clone_for) -> algebraic_simplification -> constant_folding ->
//   common_subexpression_elimination -> algebraic_simplification -> elementwise_fusion ->
//   matmul_epilogue_fusion -> reduction_fusion
//
// Memory planning and scheduling happen in the Session, on the result.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/compiler/compiled_graph.h"
#include "core/compiler/pass.h"

namespace horn::compiler {

struct PlanSummary {
  int source_nodes = 0;                               // in the user's graph
  std::vector<std::pair<std::string, int>> passes;    // (pass, nodes live after it), "prune" first
  std::vector<std::string> fusions;                   // "fused/dense_1/Sigmoid <- Add, Sigmoid"
  int64_t arena_bytes = 0, unshared_bytes = 0;        // set by the Session's memory plan
  int in_place = 0;
  // Every value the pruned, specialised graph computes, each in a buffer of its own: the
  // memory of a run with neither fusion nor reuse (fusion removes most of these values).
  int64_t unfused_unshared_bytes = 0;
  // The most per-thread kernel scratch any node takes (OpDef::scratch_bytes), and that node.
  int64_t scratch_bytes = 0;
  std::string scratch_node;
  std::string to_string() const;
};

struct Compilation {
  CompiledGraph graph;
  PlanSummary summary;
};

Compilation compile(const Graph& source, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                    const std::vector<FeedSpec>& feeds, std::vector<std::unique_ptr<Pass>> passes = default_pipeline());

}  // namespace horn::compiler
