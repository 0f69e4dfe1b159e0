// Shape functions shared by many ops (TensorFlow's habit: write them once, reuse them).
#pragma once
#include "core/op_registry.h"

namespace horn::shape_fns {

// Fails unless input i is float32 or float64.
void require_float(ShapeContext& c, int i);
// Fails unless inputs i and j have the same dtype.
void require_same_dtype(ShapeContext& c, int i, int j);

// The output dtype of a product of inputs 0 and 1 (MatMul, Conv2D and its gradients): both
// float32 or both float64 give their own dtype; both bfloat16 give float32 (float32
// accumulation). Fails on anything else, suggesting a Cast.
DType product_output_dtype(ShapeContext& c);

// One float input; output like it (Exp, Sigmoid, ...).
void unary_float(ShapeContext& c);
// Output exactly like input 0, any dtype (Identity, StopGradient).
void same_as_input(ShapeContext& c);
// Two float inputs of one dtype, NumPy-broadcast (Add, Mul, ...).
void broadcast_binary_float(ShapeContext& c);
// Two inputs of one dtype, broadcast, bool output (Equal, Greater, ...).
void broadcast_compare(ShapeContext& c);
// Two same-shaped float inputs, output like input 0 (SigmoidGrad, ...).
void same_shape_binary_float(ShapeContext& c);
// The compiler's fused ops: checks the node's FusedProgram (attribute "program") over the
// element space `space` of float `dtype`, once, when the compiler builds the node. Its
// externals are the node's inputs; for a GEMM epilogue (`epilogue`), external 0 is the
// product and external j >= 1 is input j + 1.
void validate_program(ShapeContext& c, const Shape& space, DType dtype, bool epilogue = false);
// With attribute "bfloat16_copy" (an op with kBFloat16Copy): appends the output that holds
// the program's values over `space` rounded to bfloat16; they must be float32 values.
void add_bfloat16_copy(ShapeContext& c, const Shape& space, DType dtype);

}  // namespace horn::shape_fns
