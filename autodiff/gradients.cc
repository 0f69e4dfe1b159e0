#include "autodiff/gradients.h"

#include <algorithm>
#include <map>

#include "core/graph_walk.h"
#include "core/op_registry.h"
#include "ops/ops.h"

namespace horn::autodiff {
namespace {

// Refuses an unset Output, an output index the node does not have, or one from another
// graph than `g` (when given), naming the argument and its position.
void check_outputs(const char* what, const std::vector<Output>& outputs, const Graph* g) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Output& o = outputs[i];
    if (!o.valid()) fail("gradients: ", what, "[", i, "] is not set (a default-constructed Output)");
    if (o.index < 0 || o.index >= o.node->num_outputs())
      fail("gradients: ", what, "[", i, "] is output ", o.index, " of '", o.node->name, "', which has ",
           o.node->num_outputs(), " output", o.node->num_outputs() == 1 ? "" : "s");
    if (g && &o.graph() != g)
      fail("gradients: ", what, "[", i, "] ('", o.name(), "') is not in the ys' graph");
  }
}

// "loss <- dense/Softmax <- dense/MyOp <- dense/MatMul <- x" for a missing-rule error.
std::string describe_path(const Graph& g, const Node* through, const std::vector<Output>& ys,
                          const std::vector<Output>& xs, const std::vector<bool>& on_path) {
  auto is_x = [&](const Node* n) {
    return std::any_of(xs.begin(), xs.end(), [&](const Output& x) { return x.node == n; });
  };
  std::vector<const Node*> down{through};  // from `through` towards an x, through inputs
  while (!is_x(down.back())) {
    const Node* next = nullptr;
    for (const Output& in : down.back()->inputs)
      if (on_path[in.node->id]) { next = in.node; break; }
    if (!next) break;
    down.push_back(next);
  }
  std::vector<const Node*> up;  // from `through` towards a y, through consumers
  const Node* cur = through;
  while (std::none_of(ys.begin(), ys.end(), [&](const Output& y) { return y.node == cur; })) {
    const Node* next = nullptr;
    for (int id = cur->id + 1; id < g.num_nodes() && !next; ++id)
      if (on_path[id])
        for (const Output& in : g.node(id)->inputs)
          if (in.node == cur) { next = g.node(id); break; }
    if (!next) break;
    up.push_back(next);
    cur = next;
  }
  std::string s;
  for (auto it = up.rbegin(); it != up.rend(); ++it) s += (*it)->name + " <- ";
  for (size_t i = 0; i < down.size(); ++i) s += (i ? " <- " : "") + down[i]->name;
  return s;
}

// Brings a gradient computed for a broadcast result back to the input's shape.
Output match_input_shape(Output grad, Output input, const Node& node) {
  if (grad.shape() == input.shape() && input.shape().is_fully_known()) return grad;
  if (!node.op->has(kBroadcasting) && grad.shape() == input.shape()) return grad;
  return ops::ReduceToShapeLike(grad, input);
}

// AddN of a value's gradient contributions; bfloat16 ones (there are no bfloat16 float
// kernels) are summed in float32 and rounded once.
Output sum_contributions(const std::vector<Output>& grads) {
  if (grads[0].dtype() != DType::kBFloat16) return ops::AddN(grads);
  std::vector<Output> wide;
  for (const Output& g : grads) wide.push_back(ops::Cast(g, DType::kFloat32));
  return ops::Cast(ops::AddN(wide), DType::kBFloat16);
}

}  // namespace

std::vector<Output> gradients(const std::vector<Output>& ys, const std::vector<Output>& xs,
                              const std::vector<Output>& grad_ys, GradientOptions options) {
  if (ys.empty()) fail("gradients: no ys given");
  if (!grad_ys.empty() && grad_ys.size() != ys.size())
    fail("gradients: ", ys.size(), " ys but ", grad_ys.size(), " grad_ys");
  check_outputs("ys", ys, nullptr);
  Graph& g = ys[0].graph();
  check_outputs("ys", ys, &g);
  check_outputs("xs", xs, &g);
  check_outputs("grad_ys", grad_ys, &g);

  const std::vector<bool> from_x = descendants(g, nodes_of(xs), Edges::kData);
  const std::vector<bool> to_y = ancestors(g, nodes_of(ys), Edges::kData);
  std::vector<bool> on_path(g.num_nodes());
  for (int id = 0; id < g.num_nodes(); ++id) on_path[id] = from_x[id] && to_y[id];

  // Gradient contributions per (node id, output index), in the order they arrive.
  std::map<std::pair<int, int>, std::vector<Output>> pending;
  Graph::NameScope scope(g, "gradients");
  for (size_t i = 0; i < ys.size(); ++i) {
    const Output& y = ys[i];
    if (!on_path[y.node->id] || !is_any_float(y.dtype())) continue;
    Output gy = grad_ys.empty() ? ops::OnesLike(y) : grad_ys[i];
    if (gy.dtype() != y.dtype() || !gy.shape().is_compatible_with(y.shape()))
      fail("gradients: grad_ys[", i, "] is ", dtype_name(gy.dtype()), gy.shape(), " but y '", y.name(),
           "' is ", dtype_name(y.dtype()), y.shape());
    pending[{y.node->id, y.index}].push_back(gy);
  }

  auto total = [&](int id, int index) -> Output {
    auto it = pending.find({id, index});
    if (it == pending.end() || it->second.empty()) return Output{};
    if (it->second.size() > 1) it->second = {sum_contributions(it->second)};
    return it->second[0];
  };

  // The nodes of the graph as it was: the OnesLike seeds above and the gradients below are
  // new nodes, never visited, and beyond on_path (a fuzzer found the read past its end).
  const int last = static_cast<int>(on_path.size()) - 1;
  for (int id = last; id >= 0; --id) {
    if (!on_path[id]) continue;
    Node* node = g.node(id);
    if (node->inputs.empty()) continue;
    std::vector<Output> out_grads(node->num_outputs());
    bool any = false;
    for (int o = 0; o < node->num_outputs(); ++o) any |= (out_grads[o] = total(id, o)).valid();
    if (!any || !node->op->differentiable) continue;
    if (!node->op->gradient)
      fail("gradients: op ", node->op_name(), " (node '", node->name, "') has no gradient rule, ",
           "but the gradient flows through it on the path ", describe_path(g, node, ys, xs, on_path));
    for (int o = 0; o < node->num_outputs(); ++o)
      if (!out_grads[o].valid()) out_grads[o] = ops::ZerosLike(node->output(o));
    std::vector<Output> in_grads;
    {
      Graph::NameScope node_scope(g, node->name);
      in_grads = node->op->gradient(*node, out_grads);
    }
    HORN_ASSERT(in_grads.size() == node->inputs.size(), "gradient rule of ", node->op_name(),
                " returned ", in_grads.size(), " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const Output& input = node->inputs[i];
      if (!in_grads[i].valid() || !on_path[input.node->id] || !is_any_float(input.dtype())) continue;
      pending[{input.node->id, input.index}].push_back(match_input_shape(in_grads[i], input, *node));
    }
  }

  std::vector<Output> result;
  for (const Output& x : xs) {
    Output gx = total(x.node->id, x.index);
    if (!gx.valid() && options.unconnected == Unconnected::kZero) gx = ops::ZerosLike(x);
    result.push_back(gx);
  }
  return result;
}

}  // namespace horn::autodiff
