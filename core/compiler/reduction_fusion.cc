// Reduction fusion (XLA's input fusion and multi-output fusion): a sum or mean over
// adjacent axes of an elementwise result is computed in the pass that makes that result.
//   - FusedElementwise or elementwise op -> Sum/Mean/ReduceToShapeLike becomes FusedReduce.
//     When the elementwise result has other readers too (a bias gradient's dZ is also read by
//     the weight-gradient GEMM), FusedReduce keeps it as a second output, so it is still
//     written only once.
//   - FusedMatMul -> column sum (axis 0: the bias gradient of a Dense layer, whose dZ comes
//     from the activation-gradient epilogue of dX = dY W^T) becomes a second output of the
//     FusedMatMul: mask and column sum are applied to each panel in one pass.
// Runs after the MatMul epilogue fusion, which needs the chains still unreduced.
#include <algorithm>

#include "core/compiler/pass.h"
#include "core/op_registry.h"

namespace horn::compiler {
namespace {

class ReductionFusion : public Pass {
 public:
  std::string name() const override { return "reduction_fusion"; }

  bool run(CompiledGraph& g) override {
    bool changed = false;
    for (Node* r : g.live_nodes()) {
      std::vector<int64_t> axes;
      if (!reduces_adjacent_axes(*r, &axes)) continue;
      Node* p = r->inputs[0].node;
      if (!p->control_inputs.empty() || p->num_outputs() != 1 || g.is_fed(p) ||
          p->output_dtypes[0] != r->output_dtypes[0])
        continue;
      const std::map<const Node*, int> uses = g.use_counts();
      const bool shared = uses.at(p) > 1 || g.is_fetched(p) || g.is_target(p);
      if (p->op_name() == "FusedMatMul") {
        if (axes != std::vector<int64_t>{0} || p->output_shapes[0].rank() != 2) continue;
        add_column_sum(g, p, r);
      } else if (p->op_name() == "FusedElementwise" || (p->op->elementwise && !p->op->has(kStateful))) {
        make_fused_reduce(g, p, r, axes, shared);
      } else {
        continue;
      }
      changed = true;
    }
    return changed;
  }

 private:
  // Sum, Mean and ReduceToShapeLike over adjacent axes of a non-empty float tensor; `axes`
  // gets them, sorted.
  static bool reduces_adjacent_axes(const Node& r, std::vector<int64_t>* axes) {
    const std::string& op = r.op_name();
    if ((op != "Sum" && op != "Mean" && op != "ReduceToShapeLike") || !r.control_inputs.empty()) return false;
    const Shape& in = r.inputs[0].shape();
    if (!in.is_fully_known() || in.num_elements() == 0 || !is_floating(r.output_dtypes[0])) return false;
    const int rank = in.rank();
    if (op == "ReduceToShapeLike") {
      const Shape& to = r.output_shapes[0];
      const int lead = rank - to.rank();
      for (int d = 0; d < rank; ++d)
        if (d < lead || (to.dim(d - lead) == 1 && in.dim(d) != 1)) axes->push_back(d);
    } else {
      for (int64_t a : r.attrs.get<std::vector<int64_t>>("axes")) axes->push_back(a < 0 ? a + rank : a);
      if (axes->empty())
        for (int d = 0; d < rank; ++d) axes->push_back(d);
      std::sort(axes->begin(), axes->end());
      axes->erase(std::unique(axes->begin(), axes->end()), axes->end());
    }
    if (axes->empty()) return false;  // nothing reduced: a ReduceToShapeLike that is a view
    for (size_t i = 1; i < axes->size(); ++i)
      if ((*axes)[i] != (*axes)[i - 1] + 1) return false;
    return true;
  }

  static void add_column_sum(CompiledGraph& g, Node* p, Node* r) {
    AttrMap attrs = p->attrs;
    attrs.set("column_sum", true);
    attrs.set("mean", r->op_name() == "Mean");
    attrs.set("reduced_shape", r->output_shapes[0]);
    attrs.set("ops", p->attrs.get<std::string>("ops") + "," + r->op_name());
    Node* fused = g.graph->add_node("FusedMatMul", p->inputs, std::move(attrs), p->name + "/" + r->op_name());
    g.replace_uses(p->output(), fused->output(0));
    g.replace_uses(r->output(), fused->output(1));
  }

  static void make_fused_reduce(CompiledGraph& g, Node* p, Node* r, const std::vector<int64_t>& axes, bool shared) {
    std::vector<int64_t> program;
    std::string ops;
    if (p->op_name() == "FusedElementwise") {
      program = p->attrs.get<std::vector<int64_t>>("program");
      ops = p->attrs.get<std::string>("ops");
    } else {
      program = {OpRegistry::global().index_of(p->op_name()), static_cast<int64_t>(p->inputs.size())};
      for (size_t j = 0; j < p->inputs.size(); ++j) program.push_back(static_cast<int64_t>(j));
      ops = p->op_name();
    }
    AttrMap attrs{{"program", program},
                  {"ops", ops + "," + r->op_name()},
                  {"shape", p->output_shapes[0]},
                  {"dtype", p->output_dtypes[0]},
                  {"axes", axes},
                  {"mean", r->op_name() == "Mean"},
                  {"reduced_shape", r->output_shapes[0]},
                  {"keep_values", shared}};
    const std::string base = p->name.rfind("fused/", 0) == 0 ? p->name : "fused/" + p->name;
    Node* fused = g.graph->add_node("FusedReduce", p->inputs, std::move(attrs), base + "/" + r->op_name());
    if (shared) g.replace_uses(p->output(), fused->output(1));
    g.replace_uses(r->output(), fused->output(0));
  }
};

}  // namespace

std::unique_ptr<Pass> make_reduction_fusion() { return std::make_unique<ReductionFusion>(); }

}  // namespace horn::compiler
