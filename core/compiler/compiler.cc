#include "core/compiler/compiler.h"

#include <sstream>

#include "core/compiler/memory_plan.h"
#include "core/op_registry.h"

namespace horn::compiler {

std::vector<std::unique_ptr<Pass>> default_pipeline() {
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(make_algebraic_simplification());
  passes.push_back(make_constant_folding());
  passes.push_back(make_common_subexpression_elimination());
  passes.push_back(make_algebraic_simplification());  // folding and CSE expose more
  passes.push_back(make_elementwise_fusion());
  passes.push_back(make_matmul_epilogue_fusion());
  passes.push_back(make_reduction_fusion());  // after the epilogues: they need unreduced chains
  passes.push_back(make_cast_fusion());       // it extends the kernels the others make
  passes.push_back(make_bfloat16_variable_copies());  // last: it extends the fused updates
  return passes;
}

Compilation compile(const Graph& source, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                    const std::vector<FeedSpec>& feeds, std::vector<std::unique_ptr<Pass>> passes) {
  Compilation c{clone_for(source, fetches, targets, feeds), {}};
  c.summary.source_nodes = source.num_nodes();
  c.summary.passes.emplace_back("prune+specialise", c.graph.num_live());
  std::vector<bool> fed(c.graph.graph->num_nodes(), false);
  for (const Node* f : c.graph.feeds) fed[f->id] = true;
  c.summary.unfused_unshared_bytes =
      plan_memory(*c.graph.graph, c.graph.live_nodes(), c.graph.fetches, fed).unshared_bytes;
  for (auto& pass : passes) {
    pass->run(c.graph);
    c.summary.passes.emplace_back(pass->name(), c.graph.num_live());
  }
  for (Node* n : c.graph.live_nodes()) {
    if (n->attrs.has("ops"))  // fused nodes list the ops they replaced
      c.summary.fusions.push_back(n->name + " <- " + n->attrs.get<std::string>("ops"));
    if (const int64_t scratch = n->op->scratch_bytes ? n->op->scratch_bytes(*n) : 0; scratch > c.summary.scratch_bytes) {
      c.summary.scratch_bytes = scratch;
      c.summary.scratch_node = n->name;
    }
  }
  return c;
}

std::string PlanSummary::to_string() const {
  std::ostringstream s;
  s << "nodes: " << source_nodes << " in the graph";
  for (const auto& [pass, n] : passes) s << " -> " << n << " after " << pass;
  s << "\nfusions (" << fusions.size() << "):\n";
  for (const auto& f : fusions) s << "  " << f << "\n";
  s << "memory: peak arena " << arena_bytes << " bytes; without reuse " << unshared_bytes
    << " bytes for this plan's buffers, " << unfused_unshared_bytes << " for every value of the unfused step; "
    << in_place << " outputs in place\n";
  if (scratch_bytes > 0) s << "scratch: " << scratch_bytes << " bytes per thread at most (" << scratch_node << ")\n";
  return s.str();
}

}  // namespace horn::compiler
