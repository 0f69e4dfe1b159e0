#include "ops/shape_fns.h"

#include "core/fused_program.h"

namespace horn::shape_fns {

void require_float(ShapeContext& c, int i) {
  if (c.input_dtypes[i] == DType::kBFloat16)
    c.error("input ", i, " must be float32 or float64, got bfloat16 (a storage and MatMul-input type "
            "here): Cast it to float32 first");
  if (!is_floating(c.input_dtypes[i]))
    c.error("input ", i, " must be float32 or float64, got ", dtype_name(c.input_dtypes[i]));
}

void require_same_dtype(ShapeContext& c, int i, int j) {
  if (c.input_dtypes[i] != c.input_dtypes[j])
    c.error("inputs have different dtypes: ", dtype_name(c.input_dtypes[i]), c.input_shapes[i],
            " and ", dtype_name(c.input_dtypes[j]), c.input_shapes[j]);
}

DType product_output_dtype(ShapeContext& c) {
  const DType a = c.input_dtypes[0], b = c.input_dtypes[1];
  if (a == DType::kBFloat16 || b == DType::kBFloat16) {
    if (a != b)
      c.error("inputs must both be bfloat16 (for a float32 product) or both float, got ", dtype_name(a),
              c.input_shapes[0], " and ", dtype_name(b), c.input_shapes[1], "; Cast one of them");
    return DType::kFloat32;
  }
  require_float(c, 0);
  require_same_dtype(c, 0, 1);
  return a;
}

void unary_float(ShapeContext& c) {
  require_float(c, 0);
  c.set_output(c.input_dtypes[0], c.input_shapes[0]);
}

void same_as_input(ShapeContext& c) { c.set_output(c.input_dtypes[0], c.input_shapes[0]); }

namespace {
Shape broadcast_or_fail(ShapeContext& c) {
  Shape out;
  if (!broadcast_shapes(c.input_shapes[0], c.input_shapes[1], &out))
    c.error("shapes ", c.input_shapes[0], " and ", c.input_shapes[1], " cannot be broadcast together");
  return out;
}
}  // namespace

void broadcast_binary_float(ShapeContext& c) {
  require_float(c, 0);
  require_same_dtype(c, 0, 1);
  c.set_output(c.input_dtypes[0], broadcast_or_fail(c));
}

void broadcast_compare(ShapeContext& c) {
  require_same_dtype(c, 0, 1);
  c.set_output(DType::kBool, broadcast_or_fail(c));
}

void same_shape_binary_float(ShapeContext& c) {
  require_float(c, 0);
  require_same_dtype(c, 0, 1);
  if (!c.input_shapes[0].is_compatible_with(c.input_shapes[1]))
    c.error("inputs must have the same shape, got ", c.input_shapes[0], " and ", c.input_shapes[1]);
  c.set_output(c.input_dtypes[0], c.input_shapes[0]);
}


void validate_program(ShapeContext& c, const Shape& space, DType dtype, bool epilogue) {
  if (!is_floating(dtype)) c.error("fused ops must be float, got ", dtype_name(dtype));
  std::vector<ProgramExternal> externals;
  if (epilogue) externals.push_back({dtype, space, nullptr});
  for (size_t i = epilogue ? 2 : 0; i < c.input_shapes.size(); ++i)
    externals.push_back({c.input_dtypes[i], c.input_shapes[i], c.node.inputs[i].node});
  program_of(c.node).validate(str_cat(c.node.op_name(), " '", c.node.name, "'"), externals, dtype, space);
}

void add_bfloat16_copy(ShapeContext& c, const Shape& space, DType dtype) {
  if (!c.attrs().has("bfloat16_copy")) return;
  if (dtype != DType::kFloat32) c.error("a bfloat16 copy is of float32 values, got ", dtype_name(dtype));
  if (program_of(c.node).ends_with_store()) c.error("a program that ends with a store has no values to copy");
  c.set_output(DType::kBFloat16, space);
}

}  // namespace horn::shape_fns
