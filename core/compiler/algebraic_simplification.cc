// Algebraic simplification: a node that always equals one of its inputs (x + 0, x * 1,
// -(-x), a reshape to the same shape, ...) is replaced by it. The rules are the ops' own
// (OpDef::simplify, written beside each op with the helpers of core/simplification.h).
#include "core/compiler/pass.h"
#include "core/op_registry.h"

namespace horn::compiler {
namespace {

class AlgebraicSimplification : public Pass {
 public:
  std::string name() const override { return "algebraic_simplification"; }

  bool run(CompiledGraph& g) override {
    bool changed = false;
    for (Node* node : g.live_nodes()) {
      if (!node->op->simplify || node->num_outputs() != 1) continue;
      const Output replacement = node->op->simplify(*node);
      if (!replacement.valid()) continue;
      g.replace_uses(node->output(), replacement);
      changed = true;
    }
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> make_algebraic_simplification() { return std::make_unique<AlgebraicSimplification>(); }

}  // namespace horn::compiler
