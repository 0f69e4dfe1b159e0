#include <map>
#include <sstream>

#include "core/compiler/pass.h"
#include "core/op_registry.h"

namespace horn::compiler {
namespace {

// Constants up to this many elements are compared by value; larger ones are left alone.
constexpr int64_t kMaxComparedConstant = 64;

class CommonSubexpressionElimination : public Pass {
 public:
  std::string name() const override { return "common_subexpression_elimination"; }

  bool run(CompiledGraph& g) override {
    std::map<std::string, Node*> seen;
    bool changed = false;
    for (Node* node : g.live_nodes()) {
      std::string key;
      if (!make_key(*node, &key)) continue;
      auto [it, inserted] = seen.emplace(key, node);
      if (inserted) continue;
      for (int i = 0; i < node->num_outputs(); ++i) g.replace_uses(node->output(i), it->second->output(i));
      changed = true;
    }
    return changed;
  }

 private:
  static bool make_key(const Node& node, std::string* key) {
    const OpDef& op = *node.op;
    if (op.has(kStateful) || op.has(kRandom) || op.is(OpRole::kPlaceholder)) return false;
    std::ostringstream k;
    k << op.name << "|";
    if (op.is(OpRole::kConstant)) {
      const Tensor& v = node.attrs.get<Tensor>("value");
      if (v.size() > kMaxComparedConstant) return false;
      k << dtype_name(v.dtype()) << v.shape() << ":";
      k.write(static_cast<const char*>(v.raw_data()), static_cast<std::streamsize>(v.nbytes()));
    }
    for (const auto& [name, value] : node.attrs.values())
      if (!std::holds_alternative<Tensor>(value)) k << name << "=" << attr_to_string(value) << ";";
    for (const Output& in : node.inputs) k << "|" << in.node->id << ":" << in.index;
    for (const Node* c : node.control_inputs) k << "|^" << c->id;
    *key = k.str();
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_common_subexpression_elimination() {
  return std::make_unique<CommonSubexpressionElimination>();
}

}  // namespace horn::compiler
