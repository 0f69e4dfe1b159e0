// MatMul epilogue fusion (oneDNN's post-ops): a MatMul whose only consumer is an elementwise
// op or a FusedElementwise chain (a bias add and an activation, typically) becomes one
// FusedMatMul that applies the chain to each block of the product right after the GEMM wrote
// it, while it is still in cache, instead of in a second pass over memory.
//
// A MatMul whose only consumer is a fused optimizer update (FusedAssign: a weight gradient
// and the update of that weight and its slots) becomes a FusedMatMulAssign: the update runs
// on each panel of the gradient as it is made, and the gradient is never stored whole.
#include <algorithm>
#include <map>

#include "core/compiler/pass.h"
#include "core/op_registry.h"

namespace horn::compiler {
namespace {

class MatMulEpilogueFusion : public Pass {
 public:
  std::string name() const override { return "matmul_epilogue_fusion"; }

  bool run(CompiledGraph& g) override {
    const std::vector<Node*> order = g.live_nodes();
    std::map<const Node*, int> uses = g.use_counts();
    bool changed = false;
    for (Node* consumer : order) {
      const bool update = consumer->op_name() == "FusedAssign";
      const bool chain = update || consumer->op_name() == "FusedElementwise";
      if (!chain && !(consumer->op->elementwise && !consumer->op->has(kStateful))) continue;
      if (!consumer->control_inputs.empty() || !consumer->output_shapes[0].is_fully_known()) continue;
      for (size_t j = 0; j < consumer->inputs.size(); ++j) {
        Node* m = consumer->inputs[j].node;
        if (m->op_name() != "MatMul" || uses[m] != 1 || g.is_fetched(m) || !m->control_inputs.empty() ||
            m->output_shapes[0] != consumer->output_shapes[0] || m->output_dtypes[0] != consumer->output_dtypes[0])
          continue;
        // Panels of the product are made while the update writes its variables: the GEMM
        // must not read one of them.
        if (update && (reads_stored_variable(consumer, m->inputs[0]) || reads_stored_variable(consumer, m->inputs[1])))
          continue;
        fuse(g, m, consumer, static_cast<int64_t>(j), chain);
        changed = true;
        break;
      }
    }
    return changed;
  }

 private:
  static bool reads_stored_variable(const Node* update, Output x) {
    while (x.node->op->has(kAliasesInput) && !x.node->inputs.empty()) x = x.node->inputs[0];  // views
    for (int64_t i : update->attrs.get<std::vector<int64_t>>("stores"))
      if (update->inputs[i].node == x.node) return true;
    return false;
  }

  // The consumer's program with the product as external 0 and its other inputs after it.
  static void fuse(CompiledGraph& g, Node* m, Node* consumer, int64_t product_input, bool chain) {
    std::vector<Output> inputs{m->inputs[0], m->inputs[1]};
    std::vector<int64_t> remap(consumer->inputs.size());
    for (size_t j = 0; j < consumer->inputs.size(); ++j) {
      if (static_cast<int64_t>(j) == product_input) {
        remap[j] = 0;
        continue;
      }
      remap[j] = static_cast<int64_t>(inputs.size()) - 1;  // external j' >= 1 is input j' + 1
      inputs.push_back(consumer->inputs[j]);
    }
    std::vector<int64_t> program;
    std::string ops = "MatMul,";
    if (chain) {
      program = consumer->attrs.get<std::vector<int64_t>>("program");
      for (size_t at = 0; at < program.size(); at += 2 + program[at + 1])
        for (int64_t i = 0; i < program[at + 1]; ++i) {
          int64_t& arg = program[at + 2 + i];
          if (arg >= 0) arg = remap[arg];
        }
      ops += consumer->attrs.get<std::string>("ops");
    } else {
      program = {OpRegistry::global().index_of(consumer->op_name()), static_cast<int64_t>(consumer->inputs.size())};
      for (size_t j = 0; j < consumer->inputs.size(); ++j) program.push_back(remap[j]);
      ops += consumer->op_name();
    }
    AttrMap attrs{{"transpose_a", m->attrs.get<bool>("transpose_a")},
                  {"transpose_b", m->attrs.get<bool>("transpose_b")},
                  {"program", program},
                  {"ops", ops},
                  {"shape", consumer->output_shapes[0]},
                  {"dtype", consumer->output_dtypes[0]}};
    const bool update = consumer->op_name() == "FusedAssign";
    if (update) {
      std::vector<int64_t> stores;
      for (int64_t j : consumer->attrs.get<std::vector<int64_t>>("stores")) stores.push_back(remap[j] + 1);
      attrs.set("stores", stores);
    }
    Node* fused = g.graph->add_node(update ? "FusedMatMulAssign" : "FusedMatMul", inputs, std::move(attrs),
                                    "fused/" + m->name);
    g.replace_uses(consumer->output(), fused->output());
  }
};

}  // namespace

std::unique_ptr<Pass> make_matmul_epilogue_fusion() { return std::make_unique<MatMulEpilogueFusion>(); }

}  // namespace horn::compiler
