#include "core/op_registry.h"

#include <algorithm>

namespace horn {

OpRegistry& OpRegistry::global() {
  static OpRegistry registry;
  return registry;
}

void OpRegistry::add(OpDef def) {
  HORN_ASSERT(!find(def.name), "op '", def.name, "' registered twice");
  HORN_ASSERT(def.shape_fn && def.kernel, "op '", def.name, "' needs a shape function and a kernel");
  HORN_ASSERT(def.role == OpRole::kNone || !has_role(def.role), "op '", def.name, "' takes a role another op has");
  HORN_ASSERT(def.variable_update == VariableUpdate::kNone || def.has(kWritesVariable), "op '", def.name,
              "' updates a variable: it needs kWritesVariable");
  if (def.elementwise) def.traits |= kInPlace;
  ops_.push_back(std::make_unique<OpDef>(std::move(def)));
}

const OpDef* OpRegistry::find(const std::string& name) const {
  for (const auto& op : ops_)
    if (op->name == name) return op.get();
  return nullptr;
}

const OpDef& OpRegistry::get(const std::string& name) const {
  if (const OpDef* op = find(name)) return *op;
  fail("unknown op '", name, "': it is not registered (is the ops library linked with alwayslink?)");
}

int OpRegistry::index_of(const std::string& name) const {
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i]->name == name) return static_cast<int>(i);
  fail("unknown op '", name, "': it is not registered");
}

bool OpRegistry::has_role(OpRole role) const {
  for (const auto& op : ops_)
    if (op->role == role) return true;
  return false;
}

const OpDef& OpRegistry::with_role(OpRole role) const {
  for (const auto& op : ops_)
    if (op->role == role) return *op;
  fail("no op with role ", static_cast<int>(role), " is registered (is the ops library linked with alwayslink?)");
}

std::vector<const OpDef*> OpRegistry::all() const {
  std::vector<const OpDef*> out;
  for (const auto& op : ops_) out.push_back(op.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

std::vector<int> written_variable_inputs(const Node& node) {
  if (!node.op->has(kWritesVariable)) return {};
  if (node.op->written_inputs) return node.op->written_inputs(node);
  return {0};
}

int viewed_input(const Node& node, int index) {
  const int k = node.op->view_of_input;
  return index == 0 && k >= 0 && k < static_cast<int>(node.inputs.size()) ? k : -1;
}

int64_t work_of(const Node& node) {
  if (node.op->work) return node.op->work(node);
  int64_t w = 0;
  for (const Shape& s : node.output_shapes) w += std::max<int64_t>(s.num_elements(), 0);
  for (const Output& in : node.inputs) w += std::max<int64_t>(in.shape().num_elements(), 0);
  return w;
}

ShapeContext infer_shapes(const Node& node, std::vector<DType> dtypes, std::vector<Shape> shapes) {
  ShapeContext ctx{node, std::move(dtypes), std::move(shapes), {}, {}};
  node.op->shape_fn(ctx);
  HORN_ASSERT(node.op->num_outputs < 0 || static_cast<int>(ctx.output_dtypes.size()) == node.op->num_outputs,
              "shape function of ", node.op->name, " set ", ctx.output_dtypes.size(), " outputs");
  return ctx;
}

}  // namespace horn
