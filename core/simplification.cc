#include "core/simplification.h"

#include "core/op_registry.h"

namespace horn {

bool is_filled_constant(const Output& o, double v) {
  if (!o.node->op->is(OpRole::kConstant)) return false;
  const Tensor& t = o.node->attrs.get<Tensor>("value");
  for (int64_t i = 0; i < t.size(); ++i)
    if (t.value_as_double(i) != v) return false;
  return t.size() > 0;
}

Output if_same_shape(const Output& x, const Node& node) {
  const Shape& y = node.output_shapes[0];
  return x.shape().is_fully_known() && x.shape() == y && x.dtype() == node.output_dtypes[0] ? x : Output{};
}

Output identity_when_same_shape(const Node& node) { return if_same_shape(node.inputs[0], node); }

}  // namespace horn
