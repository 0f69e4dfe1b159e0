// Loop fusion (XLA's "loop fusion"): a chain of elementwise ops whose intermediate results
// are read only inside the chain becomes one FusedElementwise node. The chain then makes one
// pass over memory instead of one per op, and its intermediates never leave L1. An
// intermediate may have several readers when all of them are in the chain (an optimizer
// update reading a rounded gradient twice): only the chain's root is read from outside, so
// no path leaves the chain and comes back.
//
// Variable updates (ops with a VariableUpdate: Assign, AssignAdd, AssignSub) of the chain's
// shape join it as stores: an optimizer's update of a weight and of all its slots becomes
// one FusedAssign node, one pass, also when a slot's store is ordered before the weight's by
// a control edge instead of a data one (Adadelta).
#include <algorithm>
#include <map>

#include "core/compiler/pass.h"
#include "core/fused_program.h"

namespace horn::compiler {
namespace {

class ElementwiseFusion : public Pass {
 public:
  std::string name() const override { return "elementwise_fusion"; }

  bool run(CompiledGraph& g) override {
    const std::vector<Node*> order = g.live_nodes();
    std::map<const Node*, int> uses = g.use_counts(), position;
    for (size_t i = 0; i < order.size(); ++i) position[order[i]] = static_cast<int>(i);
    std::map<const Node*, bool> taken;
    bool changed = false;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      Node* root = *it;
      if (taken[root] || !fusable(*root) || !control_inputs_join(g, *root, uses, taken)) continue;
      std::vector<Node*> group{root};
      taken[root] = true;
      for (Node* c : root->control_inputs) {
        group.push_back(c);
        taken[c] = true;
      }
      std::map<const Node*, int> reads_from_group;
      for (size_t i = 0; i < group.size(); ++i)
        for (const Output& in : group[i]->inputs) {
          Node* p = in.node;
          if (taken[p] || ++reads_from_group[p] != uses[p] || !fusable(*p) || !p->control_inputs.empty() ||
              g.is_fetched(p) || g.is_target(p) || p->output_shapes[0] != root->output_shapes[0])
            continue;
          taken[p] = true;
          group.push_back(p);
        }
      if (group.size() < 2) continue;
      std::sort(group.begin(), group.end(), [&](Node* a, Node* b) { return position[a] < position[b]; });
      fuse(g, group);
      changed = true;
    }
    return changed;
  }

 private:
  static bool is_store(const Node& n) { return n.op->variable_update != VariableUpdate::kNone; }

  static bool fusable(const Node& n) {
    if (n.num_outputs() != 1 || !is_floating(n.output_dtypes[0]) || !n.output_shapes[0].is_fully_known())
      return false;
    if (is_store(n)) return n.inputs[1].shape() == n.output_shapes[0];  // no broadcast into a variable
    return n.op->elementwise && !n.op->has(kStateful);
  }

  // A root's control inputs must run before it. They can only be other stores of the same
  // update that nothing else reads, fetches or waits for (Adadelta's slot update, which must
  // follow the reads of the slot): they join the group, and the program runs them before the
  // root. (The root cannot read the variable such a store writes: the Session runs every
  // read of a variable before its write, which with the control edge is a cycle it refuses.)
  static bool control_inputs_join(const CompiledGraph& g, const Node& root, std::map<const Node*, int>& uses,
                                  std::map<const Node*, bool>& taken) {
    for (const Node* c : root.control_inputs)
      if (!is_store(*c) || taken[c] || uses[c] != 1000 || !fusable(*c) || !c->control_inputs.empty() ||
          g.is_fetched(c) || g.is_target(c) || c->output_shapes[0] != root.output_shapes[0])
        return false;
    return true;
  }

  // Replaces `group` (topologically ordered; the last is the root) by one fused node.
  static void fuse(CompiledGraph& g, const std::vector<Node*>& group) {
    std::vector<Output> externals;
    std::map<const Node*, int> result;
    auto program = std::make_shared<FusedProgram>();
    std::string ops;
    bool stores = false;
    for (size_t k = 0; k < group.size(); ++k) {
      const Node* n = group[k];
      ProgramInstruction instruction{n->op, {}};
      for (const Output& in : n->inputs) {
        if (auto r = result.find(in.node); r != result.end()) {
          instruction.args.push_back(ProgramOperand::result(r->second));
          continue;
        }
        auto e = std::find(externals.begin(), externals.end(), in);
        if (e == externals.end()) e = externals.insert(externals.end(), in);
        instruction.args.push_back(ProgramOperand::external(static_cast<int>(e - externals.begin())));
      }
      program->instructions.push_back(std::move(instruction));
      result[n] = static_cast<int>(k);
      ops += (k ? "," : "") + n->op_name();
      stores = stores || is_store(*n);
    }
    Node* root = group.back();
    AttrMap attrs{{"ops", ops},
                  {"program", FusedProgramPtr(std::move(program))},
                  {"shape", root->output_shapes[0]},
                  {"dtype", root->output_dtypes[0]}};
    const OpDef& op = OpRegistry::global().with_role(stores ? OpRole::kFusedUpdate : OpRole::kFusedLoop);
    Node* fused = g.graph->add_node(op, externals, std::move(attrs), "fused/" + root->name);
    g.replace_uses(root->output(), fused->output());
  }
};

}  // namespace

std::unique_ptr<Pass> make_elementwise_fusion() { return std::make_unique<ElementwiseFusion>(); }

}  // namespace horn::compiler
