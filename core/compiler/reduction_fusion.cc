// Reduction fusion (XLA's input fusion and multi-output fusion): a sum or mean over
// adjacent axes of an elementwise result is computed in the pass that makes that result.
// Reductions say which axes they sum (OpDef::sum_axes: Sum, Mean, ReduceToShapeLike).
//   - FusedElementwise or elementwise op -> sum becomes FusedReduce.
//     When the elementwise result has other readers too (a bias gradient's dZ is also read by
//     the weight-gradient GEMM), FusedReduce keeps it as a second output, so it is still
//     written only once.
//   - FusedMatMul (an op with kColumnSums) -> column sum (axis 0: the bias gradient of a
//     Dense layer, whose dZ comes from the activation-gradient epilogue of dX = dY W^T)
//     becomes a second output of the FusedMatMul: mask and column sum are applied to each
//     panel in one pass.
// Runs after the MatMul epilogue fusion, which needs the chains still unreduced.
#include <algorithm>

#include "core/compiler/pass.h"
#include "core/fused_program.h"

namespace horn::compiler {
namespace {

class ReductionFusion : public Pass {
 public:
  std::string name() const override { return "reduction_fusion"; }

  bool run(CompiledGraph& g) override {
    bool changed = false;
    for (Node* r : g.live_nodes()) {
      const std::optional<SumAxes> sum = adjacent_sum_axes(*r);
      if (!sum) continue;
      const std::vector<int64_t>& axes = sum->axes;
      Node* p = r->inputs[0].node;
      if (!p->control_inputs.empty() || p->num_outputs() != 1 || g.is_fed(p) ||
          p->output_dtypes[0] != r->output_dtypes[0])
        continue;
      const std::map<const Node*, int> uses = g.use_counts();
      const bool shared = uses.at(p) > 1 || g.is_fetched(p) || g.is_target(p);
      if (p->op->has(kColumnSums)) {
        // One column is one contiguous run, which the unfused reduction sums in blocks of
        // kReduceBlock; the column sum adds row after row: other bits. Leave it unfused.
        if (axes != std::vector<int64_t>{0} || p->output_shapes[0].rank() != 2 || p->output_shapes[0].dim(1) == 1)
          continue;
        add_column_sum(g, p, r, sum->mean);
      } else if (p->op->is(OpRole::kFusedLoop) || (p->op->elementwise && !p->op->has(kStateful))) {
        make_fused_reduce(g, p, r, *sum, shared);
      } else {
        continue;
      }
      changed = true;
    }
    return changed;
  }

 private:
  // The axes a reduction sums, when they are adjacent, of a non-empty float tensor.
  static std::optional<SumAxes> adjacent_sum_axes(const Node& r) {
    if (!r.op->sum_axes || !r.control_inputs.empty()) return std::nullopt;
    const Shape& in = r.inputs[0].shape();
    if (!in.is_fully_known() || in.num_elements() == 0 || !is_floating(r.output_dtypes[0])) return std::nullopt;
    std::optional<SumAxes> sum = r.op->sum_axes(r);
    if (!sum || sum->axes.empty()) return std::nullopt;  // nothing reduced: a view
    for (size_t i = 1; i < sum->axes.size(); ++i)
      if (sum->axes[i] != sum->axes[i - 1] + 1) return std::nullopt;
    return sum;
  }

  static void add_column_sum(CompiledGraph& g, Node* p, Node* r, bool mean) {
    AttrMap attrs = p->attrs;
    attrs.set("column_sum", true);
    attrs.set("mean", mean);
    attrs.set("reduced_shape", r->output_shapes[0]);
    attrs.set("ops", p->attrs.get<std::string>("ops") + "," + r->op_name());
    Node* fused = g.graph->add_node(*p->op, p->inputs, std::move(attrs), p->name + "/" + r->op_name());
    g.replace_uses(p->output(), fused->output(0));
    g.replace_uses(r->output(), fused->output(1));
  }

  static void make_fused_reduce(CompiledGraph& g, Node* p, Node* r, const SumAxes& sum, bool shared) {
    FusedProgramPtr program;
    std::string ops;
    if (p->op->is(OpRole::kFusedLoop)) {
      program = p->attrs.get<FusedProgramPtr>("program");
      ops = p->attrs.get<std::string>("ops");
    } else {
      auto single = std::make_shared<FusedProgram>();
      ProgramInstruction in{p->op, {}};
      for (size_t j = 0; j < p->inputs.size(); ++j) in.args.push_back(ProgramOperand::external(static_cast<int>(j)));
      single->instructions.push_back(std::move(in));
      program = std::move(single);
      ops = p->op_name();
    }
    AttrMap attrs{{"program", program},
                  {"ops", ops + "," + r->op_name()},
                  {"shape", p->output_shapes[0]},
                  {"dtype", p->output_dtypes[0]},
                  {"axes", sum.axes},
                  {"mean", sum.mean},
                  {"reduced_shape", r->output_shapes[0]},
                  {"keep_values", shared}};
    const std::string base = p->name.rfind("fused/", 0) == 0 ? p->name : "fused/" + p->name;
    Node* fused = g.graph->add_node(OpRegistry::global().with_role(OpRole::kFusedReduce), p->inputs, std::move(attrs),
                                    base + "/" + r->op_name());
    if (shared) g.replace_uses(p->output(), fused->output(1));
    g.replace_uses(r->output(), fused->output(0));
  }
};

}  // namespace

std::unique_ptr<Pass> make_reduction_fusion() { return std::make_unique<ReductionFusion>(); }

}  // namespace horn::compiler
