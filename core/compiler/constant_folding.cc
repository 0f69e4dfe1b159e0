#include "core/compiler/pass.h"
#include "core/op_registry.h"
#include "core/session.h"

namespace horn::compiler {
namespace {

class ConstantFolding : public Pass {
 public:
  explicit ConstantFolding(int64_t max_elements) : max_elements_(max_elements) {}
  std::string name() const override { return "constant_folding"; }

  bool run(CompiledGraph& g) override {
    bool changed = false;
    for (Node* node : g.live_nodes()) {
      if (!foldable(*node)) continue;
      SessionState no_state;  // foldable ops never touch session state
      const OpDef& constant = OpRegistry::global().with_role(OpRole::kConstant);
      KernelContext ctx{*node, {}, {}, node->output_shapes, no_state};
      for (const Output& in : node->inputs)
        ctx.inputs.push_back(in.node->op->is(OpRole::kConstant) ? in.node->attrs.get<Tensor>("value")
                                                           : Tensor::zeros(in.dtype(), in.shape()));
      if (node->op->kernel_sets_outputs) ctx.outputs.resize(node->num_outputs());
      else
        for (int i = 0; i < node->num_outputs(); ++i) ctx.outputs.emplace_back(node->output_dtypes[i], node->output_shapes[i]);
      node->op->kernel(ctx);
      for (int i = 0; i < node->num_outputs(); ++i) {
        Node* c = g.graph->add_node(constant, {}, {{"value", ctx.outputs[i].copy()}}, node->name + "/folded");
        g.replace_uses(node->output(i), c->output());
      }
      changed = true;
    }
    return changed;
  }

 private:
  bool foldable(const Node& node) const {
    const OpDef& op = *node.op;
    if (op.has(kStateful) || op.has(kRandom) || op.is_source() || node.inputs.empty() || !node.control_inputs.empty())
      return false;
    for (const Shape& s : node.output_shapes)
      if (!s.is_fully_known() || s.num_elements() > max_elements_) return false;
    if (op.has(kShapeOnly)) return true;  // ZerosLike(x) needs x's shape only, known by now
    for (const Output& in : node.inputs)
      if (!in.node->op->is(OpRole::kConstant)) return false;
    return true;
  }
  int64_t max_elements_;
};

}  // namespace

std::unique_ptr<Pass> make_constant_folding(int64_t max_elements) {
  return std::make_unique<ConstantFolding>(max_elements);
}

}  // namespace horn::compiler
