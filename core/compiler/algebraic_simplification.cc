#include <numeric>

#include "core/compiler/pass.h"
#include "core/op_registry.h"

namespace horn::compiler {
namespace {

// True when `o` is a Const whose every element equals `v`.
bool is_constant(const Output& o, double v) {
  if (o.node->op_name() != "Const") return false;
  const Tensor& t = o.node->attrs.get<Tensor>("value");
  for (int64_t i = 0; i < t.size(); ++i)
    if (t.value_as_double(i) != v) return false;
  return t.size() > 0;
}

bool same_shape_known(const Output& a, const Output& b) {
  return a.shape().is_fully_known() && a.shape() == b.shape() && a.dtype() == b.dtype();
}

class AlgebraicSimplification : public Pass {
 public:
  std::string name() const override { return "algebraic_simplification"; }

  bool run(CompiledGraph& g) override {
    bool changed = false;
    for (Node* node : g.live_nodes()) {
      Output replacement = simplify(*node);
      if (!replacement.valid()) continue;
      g.replace_uses(node->output(), replacement);
      changed = true;
    }
    return changed;
  }

 private:
  // The output that `node` equals, or an invalid Output.
  static Output simplify(Node& node) {
    const std::string& op = node.op_name();
    const Output y = node.output();
    auto input = [&](int i) { return node.inputs[i]; };
    // The identity element on one side leaves the other side, if no broadcast grew it.
    auto keep_if_same = [&](const Output& x) { return same_shape_known(x, y) ? x : Output{}; };
    if (op == "Add") {
      if (is_constant(input(1), 0)) return keep_if_same(input(0));
      if (is_constant(input(0), 0)) return keep_if_same(input(1));
    } else if (op == "Sub") {
      if (is_constant(input(1), 0)) return keep_if_same(input(0));
    } else if (op == "Mul") {
      if (is_constant(input(1), 1)) return keep_if_same(input(0));
      if (is_constant(input(0), 1)) return keep_if_same(input(1));
    } else if (op == "Div") {
      if (is_constant(input(1), 1)) return keep_if_same(input(0));
    } else if (op == "Neg") {
      if (input(0).node->op_name() == "Neg") return input(0).node->inputs[0];
    } else if (op == "Transpose") {
      const Node& inner = *input(0).node;
      if (inner.op_name() == "Transpose") {
        auto perm = [](const Node& n) {
          std::vector<int64_t> p = n.attrs.get<std::vector<int64_t>>("perm");
          if (p.empty()) {
            p.resize(n.inputs[0].shape().rank());
            std::iota(p.rbegin(), p.rend(), 0);
          }
          return p;
        };
        const std::vector<int64_t> outer = perm(node), first = perm(inner);
        bool identity = true;
        for (size_t i = 0; i < outer.size(); ++i) identity &= first[outer[i]] == static_cast<int64_t>(i);
        if (identity) return inner.inputs[0];
      }
    } else if (op == "Reshape" || op == "ReshapeLike" || op == "ExpandDims" || op == "BroadcastLike" ||
               op == "ReduceToShapeLike" || op == "StopGradient" || op == "Cast") {
      return keep_if_same(input(0));
    }
    return Output{};
  }
};

}  // namespace

std::unique_ptr<Pass> make_algebraic_simplification() { return std::make_unique<AlgebraicSimplification>(); }

}  // namespace horn::compiler
