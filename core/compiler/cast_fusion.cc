// Cast fusion: a Cast to bfloat16 of the float32 values a fused kernel computes (a GEMM or
// convolution epilogue, a FusedElementwise loop, the values a FusedReduce keeps) becomes an
// extra output of that kernel, written in the same pass while each chunk is still in L1
// (attribute "bfloat16_copy"; ops with kBFloat16Copy). Under mixed_bfloat16 this is how a
// layer's activation reaches the next layer's bfloat16 GEMM, and a gradient the bfloat16
// weight-gradient and input-gradient products: without it, each was one more pass over
// memory. The float32 values stay an output (the backward pass reads them), and are written
// even where the Cast was their only other reader.
// Runs last: the kernels it extends are made by the fusion passes before it.
#include "core/compiler/pass.h"
#include "core/fused_program.h"

namespace horn::compiler {
namespace {

class CastFusion : public Pass {
 public:
  std::string name() const override { return "cast_fusion"; }

  bool run(CompiledGraph& g) override {
    bool changed = false;
    // A node that orders another by a control edge must stay (replace_uses moves data uses
    // only): rebuilding it would run it twice. use_counts counts a control use as 1000; the
    // nodes checked below all exist before the loop.
    const std::map<const Node*, int> uses = g.use_counts();
    auto ordered_by_control = [&](const Node* n) { return uses.contains(n) && uses.at(n) >= 1000; };
    for (Node* c : g.live_nodes()) {
      if (!c->op->is(OpRole::kCast) || !c->control_inputs.empty() || c->output_dtypes[0] != DType::kBFloat16 ||
          c->inputs[0].dtype() != DType::kFloat32)
        continue;
      Node* p = c->inputs[0].node;
      if (!p->op->has(kBFloat16Copy) || p->attrs.has("bfloat16_copy") || !p->control_inputs.empty() ||
          g.is_fed(p) || c->inputs[0].index != values_output(*p) || program_of(*p).ends_with_store())
        continue;
      if (ordered_by_control(p) || ordered_by_control(c)) continue;
      add_copy(g, p, c);
      changed = true;
    }
    return changed;
  }

 private:
  // The output that holds the program's values: a FusedReduce's output 1 (when it keeps
  // them), every other fused kernel's output 0.
  static int values_output(const Node& p) {
    if (!p.op->is(OpRole::kFusedReduce)) return 0;
    return p.attrs.get<bool>("keep_values") ? 1 : -1;
  }

  // Rebuilds p with the copy as its last output; p's readers and the cast's move over.
  static void add_copy(CompiledGraph& g, Node* p, Node* cast) {
    AttrMap attrs = p->attrs;
    attrs.set("bfloat16_copy", true);
    attrs.set("ops", p->attrs.get<std::string>("ops") + ",Cast");
    Node* fused = g.graph->add_node(*p->op, p->inputs, std::move(attrs), p->name + "/Cast");
    for (int i = 0; i < p->num_outputs(); ++i) g.replace_uses(p->output(i), fused->output(i));
    g.replace_uses(cast->output(), fused->output(fused->num_outputs() - 1));
  }
};

}  // namespace

std::unique_ptr<Pass> make_cast_fusion() { return std::make_unique<CastFusion>(); }

}  // namespace horn::compiler
