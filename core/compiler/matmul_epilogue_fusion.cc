// Epilogue fusion (oneDNN's post-ops): a GEMM-like node (its op declares an EpilogueFusion,
// as MatMul does) whose only consumer is an elementwise op or a fused elementwise chain (a
// bias add and an activation, typically) becomes one node of the declared fused op, which
// applies the chain to each block of the product right after the GEMM wrote it, while it is
// still in cache, instead of in a second pass over memory.
//
// A GEMM whose only consumer is a fused optimizer update (a weight gradient and the update of
// that weight and its slots) becomes the declared update op: the update runs on each panel
// of the gradient as it is made, and the gradient is never stored whole.
#include <algorithm>
#include <map>

#include "core/compiler/pass.h"
#include "core/fused_program.h"

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
      const bool update = consumer->op->is(OpRole::kFusedUpdate);
      const bool chain = update || consumer->op->is(OpRole::kFusedLoop);
      if (!chain && !(consumer->op->elementwise && !consumer->op->has(kStateful))) continue;
      // One output: the fused node takes over output 0 only (a loop with a bfloat16 copy has two).
      if (!consumer->control_inputs.empty() || consumer->num_outputs() != 1 ||
          !consumer->output_shapes[0].is_fully_known())
        continue;
      for (size_t j = 0; j < consumer->inputs.size(); ++j) {
        Node* m = consumer->inputs[j].node;
        const EpilogueFusion& epilogue = m->op->epilogue;
        if (!epilogue || (update && epilogue.update_op.empty()) || uses[m] != 1 || g.is_fetched(m) ||
            !m->control_inputs.empty() || m->num_outputs() != 1 ||
            m->output_shapes[0] != consumer->output_shapes[0] || m->output_dtypes[0] != consumer->output_dtypes[0])
          continue;
        // Panels of the product are made while the update writes its variables: the GEMM
        // must not read one of them.
        if (update && reads_stored_variable(*consumer, *m)) continue;
        fuse(g, m, consumer, static_cast<int>(j), chain);
        changed = true;
        break;
      }
    }
    return changed;
  }

 private:
  static bool reads_stored_variable(const Node& update, const Node& gemm) {
    const std::vector<int> stored = written_variable_inputs(update);
    for (Output x : gemm.inputs) {
      for (int k = viewed_input(*x.node, x.index); k >= 0; k = viewed_input(*x.node, x.index))
        x = x.node->inputs[k];  // look through views
      for (int i : stored)
        if (update.inputs[i].node == x.node) return true;
    }
    return false;
  }

  // The consumer's program with the product as external 0 and its other inputs after the
  // GEMM's own inputs: external j >= 1 is input (gemm inputs - 1) + j of the fused node.
  static void fuse(CompiledGraph& g, Node* m, Node* consumer, int product_input, bool chain) {
    std::vector<Output> inputs = m->inputs;
    const int first = static_cast<int>(inputs.size()) - 1;  // external 1 is input first + 1
    std::vector<int> remap(consumer->inputs.size());
    for (size_t j = 0; j < consumer->inputs.size(); ++j) {
      if (static_cast<int>(j) == product_input) {
        remap[j] = 0;
        continue;
      }
      remap[j] = static_cast<int>(inputs.size()) - first;
      inputs.push_back(consumer->inputs[j]);
    }
    auto program = std::make_shared<FusedProgram>();
    std::string ops = m->op_name() + ",";
    if (chain) {
      *program = program_of(*consumer);
      for (ProgramInstruction& in : program->instructions)
        for (ProgramOperand& a : in.args)
          if (a.is_external()) a.index = remap[a.index];
      ops += consumer->attrs.get<std::string>("ops");
    } else {
      ProgramInstruction in{consumer->op, {}};
      for (size_t j = 0; j < consumer->inputs.size(); ++j) in.args.push_back(ProgramOperand::external(remap[j]));
      program->instructions.push_back(std::move(in));
      ops += consumer->op_name();
    }
    AttrMap attrs = m->attrs;
    attrs.set("program", FusedProgramPtr(std::move(program)));
    attrs.set("ops", ops);
    const bool update = consumer->op->is(OpRole::kFusedUpdate);
    const EpilogueFusion& epilogue = m->op->epilogue;
    Node* fused = g.graph->add_node(update ? epilogue.update_op : epilogue.op, inputs, std::move(attrs),
                                    "fused/" + m->name);
    g.replace_uses(consumer->output(), fused->output());
  }
};

}  // namespace

std::unique_ptr<Pass> make_matmul_epilogue_fusion() { return std::make_unique<MatMulEpilogueFusion>(); }

}  // namespace horn::compiler
