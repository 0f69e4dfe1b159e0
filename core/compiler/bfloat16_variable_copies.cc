// bfloat16 copies of weights: under mixed_bfloat16 a layer casts its float32 kernel to
// bfloat16 for its products every step, one more pass over every weight (~10% of the seed
// model's mixed step). This pass makes each Cast to bfloat16 of a float32 Variable a
// VariableAsBFloat16 node, which reads a bfloat16 copy of the variable that the session
// keeps; and every fused optimizer update that writes such a variable (kKeepsBFloat16Copies)
// writes the copy as well, in the same pass, from L1 (attribute "bfloat16_copies"). The next
// step's forward and backward products then read the copy. It holds the Cast's bits exactly.
// Any other write of the variable (an unfused Assign, set_variable_value, a load) leaves it
// stale, and VariableAsBFloat16 then casts as the Cast did.
// Runs last: the updates it extends are made by the fusion passes before it.
#include <set>

#include "core/compiler/pass.h"
#include "core/graph_walk.h"
#include "core/op_registry.h"

namespace horn::compiler {
namespace {

class BFloat16VariableCopies : public Pass {
 public:
  std::string name() const override { return "bfloat16_variable_copies"; }

  bool run(CompiledGraph& g) override {
    const OpDef& read = OpRegistry::global().with_role(OpRole::kVariableAsBFloat16);
    // A node that orders another by a control edge keeps its place (replace_uses moves data
    // uses only); use_counts counts a control use as 1000.
    const std::map<const Node*, int> uses = g.use_counts();
    std::vector<std::vector<Node*>> consumers(g.graph->num_nodes());
    for (Node* n : g.live_nodes())
      for (const Output& in : n->inputs) {
        std::vector<Node*>& c = consumers[in.node->id];
        if (c.empty() || c.back() != n) c.push_back(n);
      }
    std::set<const Node*> copied;  // variables read through a copy
    for (Node* c : g.live_nodes()) {
      if (!c->op->is(OpRole::kCast) || !c->control_inputs.empty() || c->output_dtypes[0] != DType::kBFloat16 ||
          c->inputs[0].dtype() != DType::kFloat32)
        continue;
      Node* var = c->inputs[0].node;
      if (!var->op->is(OpRole::kVariable) || g.is_fed(var) || (uses.contains(c) && uses.at(c) >= 1000) ||
          !reads_before_every_write(g, c, consumers))
        continue;
      Node* copy = g.graph->add_node(read, {var->output()}, {}, c->name + "/bfloat16_copy");
      g.replace_uses(c->output(), copy->output());
      copied.insert(var);
    }
    for (Node* w : g.live_nodes()) {
      if (!w->op->has(kKeepsBFloat16Copies) || w->attrs.has("bfloat16_copies")) continue;
      std::vector<int64_t> kept;
      for (int i : written_variable_inputs(*w))
        if (copied.contains(w->inputs[i].node) && w->inputs[i].dtype() == DType::kFloat32) kept.push_back(i);
      if (!kept.empty()) w->attrs.set("bfloat16_copies", kept);
    }
    return !copied.empty();
  }

 private:
  // Whether every read of the cast's value can be of the session's copy, which the run's
  // updates rewrite in place. The Session orders a variable's readers before its writers, and
  // VariableAsBFloat16 is a view of the variable, so the copy's readers come first. Except:
  // a fetched value (the cast or a view of it) is returned after the run; a reader that
  // depends on a variable write (a control edge on a train op) would follow it, and its
  // reader-before-writer edge could close a cycle; and a writer that reads the copy (a
  // weight-gradient GEMM fused with its update) would read rows it has already rewritten.
  // Those keep the Cast, which writes its own buffer.
  static bool reads_before_every_write(const CompiledGraph& g, Node* cast,
                                       const std::vector<std::vector<Node*>>& consumers) {
    std::vector<Node*> readers, views{cast};
    readers_through_views(*cast, consumers, &readers, &views);
    for (const Node* v : views)
      if (g.is_fetched(v)) return false;
    // Ancestors of live nodes are live (fed nodes have no inputs in a compiled graph).
    const std::vector<bool> before = ancestors(*g.graph, readers, Edges::kDataAndControl);
    for (int id = 0; id < g.graph->num_nodes(); ++id)
      if (before[id] && g.graph->node(id)->op->has(kWritesVariable)) return false;
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_bfloat16_variable_copies() { return std::make_unique<BFloat16VariableCopies>(); }

}  // namespace horn::compiler
