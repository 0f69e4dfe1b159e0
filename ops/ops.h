// Builder functions: each adds one node to the graph of its inputs and returns its output.
//
//   Graph g;
//   Output x = ops::Placeholder(g, DType::kFloat32, {-1, 4}, "x");
//   Output w = ops::Variable(g, Tensor::uniform(DType::kFloat32, {4, 3}, -1, 1, /*seed=*/1), "w");
//   Output y = ops::Softmax(ops::MatMul(x, w) + 1.0);
//
// Shape and dtype errors are raised here, when the node is built, naming op and node.
// An optional last `name` argument names the node (made unique within the graph).
#pragma once
#include <string_view>
#include <vector>

#include "core/graph.h"

namespace horn::ops {

using Name = std::string_view;

// ---- sources and state ----
Output Const(Graph& g, const Tensor& value, Name name = {});
// A scalar constant of the given dtype (float32 by default).
Output Scalar(Graph& g, double value, DType dtype = DType::kFloat32, Name name = {});
Output Placeholder(Graph& g, DType dtype, const Shape& shape, Name name = {});
// A variable owned by the Session, set to `initial_value` by Session::initialize_variables().
// `trainable` (TensorFlow 1's): whether Graph::trainable_variables() lists it, the variables
// an optimizer's minimize(loss) changes when given no var_list. Optimizer slots, step counts
// and moving statistics are not trainable.
Output Variable(Graph& g, const Tensor& initial_value, Name name = {}, bool trainable = true);
// In-place updates of a variable; each returns the variable's new value.
Output Assign(Output variable, Output value, Name name = {});
Output AssignAdd(Output variable, Output delta, Name name = {});
Output AssignSub(Output variable, Output delta, Name name = {});

// ---- elementwise arithmetic (NumPy broadcasting) ----
Output Add(Output a, Output b, Name name = {});
Output Sub(Output a, Output b, Name name = {});
Output Mul(Output a, Output b, Name name = {});
Output Div(Output a, Output b, Name name = {});
Output Pow(Output a, Output b, Name name = {});
Output Maximum(Output a, Output b, Name name = {});
Output Minimum(Output a, Output b, Name name = {});
Output AddN(const std::vector<Output>& inputs, Name name = {});  // same shapes, summed in order

// ---- comparisons and selection (bool results; no gradient) ----
Output Equal(Output a, Output b, Name name = {});
Output Greater(Output a, Output b, Name name = {});
Output GreaterEqual(Output a, Output b, Name name = {});
Output Less(Output a, Output b, Name name = {});
Output LessEqual(Output a, Output b, Name name = {});
// cond ? a : b elementwise; cond is bool, all three the same shape.
Output Select(Output cond, Output a, Output b, Name name = {});

// ---- elementwise unary ----
Output Neg(Output x, Name name = {});
Output Exp(Output x, Name name = {});
Output Log(Output x, Name name = {});
Output Sqrt(Output x, Name name = {});
Output Square(Output x, Name name = {});
Output Abs(Output x, Name name = {});
Output Sign(Output x, Name name = {});
Output Sigmoid(Output x, Name name = {});
Output Tanh(Output x, Name name = {});
Output Relu(Output x, Name name = {});
Output Softplus(Output x, Name name = {});   // log(1 + e^x), stable for large |x|
Output Softsign(Output x, Name name = {});   // x / (1 + |x|)
Output HardSigmoid(Output x, Name name = {});  // clip(0.2x + 0.5, 0, 1), as Keras
// Gradient helpers (also ops, so gradients of gradients work).
Output SigmoidGrad(Output y, Output dy, Name name = {});  // dy * y * (1 - y)
Output TanhGrad(Output y, Output dy, Name name = {});     // dy * (1 - y^2)
Output ReluGrad(Output dy, Output x, Name name = {});     // dy where x > 0, else 0 (x: Relu's input or output)

// ---- composites (lowered to the primitives above) ----
Output Clip(Output x, double low, double high, Name name = {});
Output Elu(Output x, double alpha = 1.0);
Output Selu(Output x);
// Keeps each element with probability 1 - rate and scales kept ones by 1 / (1 - rate): one op
// (ops/dropout_op.cc) whose mask is drawn from (seed, run index), so its gradient redraws it.
Output Dropout(Output x, double rate, uint64_t seed);

// ---- neural-network ops (last axis) ----
Output Softmax(Output logits, Name name = {});
Output LogSoftmax(Output logits, Name name = {});
// Per-row -sum(labels * log_softmax(logits)) for [batch, classes]; computed stably. The
// arguments are named, as TensorFlow 1 requires, because swapping them type-checks and
// silently computes a wrong loss:
//   ops::SoftmaxCrossEntropyWithLogits({.labels = y, .logits = z})
struct SoftmaxCrossEntropyArgs {
  Output labels;
  Output logits;
  Name name = {};
};
Output SoftmaxCrossEntropyWithLogits(const SoftmaxCrossEntropyArgs& args);

// ---- linear algebra ----
// op(a) x op(b) for rank-2 a and b, op transposing when asked (no transpose is materialised).
Output MatMul(Output a, Output b, bool transpose_a = false, bool transpose_b = false, Name name = {});

// ---- convolution and pooling: NHWC images, HWIO filters, TensorFlow's padding rules ----
// "valid" keeps only windows that fit; "same" gives ceil(size / stride) outputs, padding
// half before and the rest after (the extra one at the bottom/right).
Output Conv2D(Output x, Output filter, std::vector<int64_t> strides = {1, 1}, const std::string& padding = "valid",
              std::vector<int64_t> dilations = {1, 1}, Name name = {});
// The gradients of Conv2D, as ops of their own (each differentiable again). `input_shape`
// may have an unknown batch (-1): it is dy's at run time.
Output Conv2DBackpropInput(Output dy, Output filter, const Shape& input_shape, std::vector<int64_t> strides = {1, 1},
                           const std::string& padding = "valid", std::vector<int64_t> dilations = {1, 1},
                           Name name = {});
Output Conv2DBackpropFilter(Output x, Output dy, const Shape& filter_shape, std::vector<int64_t> strides = {1, 1},
                            const std::string& padding = "valid", std::vector<int64_t> dilations = {1, 1},
                            Name name = {});
// Empty strides mean the window size (Keras's strides=None).
Output MaxPool2D(Output x, std::vector<int64_t> ksize = {2, 2}, std::vector<int64_t> strides = {},
                 const std::string& padding = "valid", Name name = {});
Output AvgPool2D(Output x, std::vector<int64_t> ksize = {2, 2}, std::vector<int64_t> strides = {},
                 const std::string& padding = "valid", Name name = {});
// dx for MaxPool2D (to the first maximum of each window) and for AvgPool2D.
Output MaxPoolGrad(Output x, Output dy, std::vector<int64_t> ksize, std::vector<int64_t> strides,
                   const std::string& padding);
Output AvgPoolGrad(Output dy, const Shape& input_shape, std::vector<int64_t> ksize, std::vector<int64_t> strides,
                   const std::string& padding);
// Zeros around x: two numbers (before, after) per axis.
Output Pad(Output x, std::vector<int64_t> paddings, Name name = {});
// The box of x at `begin` of `size` per axis (-1: to the end).
Output Slice(Output x, std::vector<int64_t> begin, std::vector<int64_t> size, Name name = {});

// ---- reductions (an empty axes list means all axes) ----
Output Sum(Output x, std::vector<int64_t> axes = {}, bool keepdims = false, Name name = {});
Output Mean(Output x, std::vector<int64_t> axes = {}, bool keepdims = false, Name name = {});
Output Max(Output x, std::vector<int64_t> axes = {}, bool keepdims = false, Name name = {});
Output ArgMax(Output x, int64_t axis = -1, Name name = {});  // int32 indices

// ---- shapes and types ----
// One dimension of `shape` may be -1: it is inferred from the element count.
Output Reshape(Output x, const Shape& shape, Name name = {});
Output ExpandDims(Output x, int64_t axis, Name name = {});
Output Transpose(Output x, std::vector<int64_t> perm = {}, Name name = {});  // {}: reverse
Output Cast(Output x, DType dtype, Name name = {});
// Cast(Cast(x, bfloat16), x's dtype) in one elementwise op: x rounded to bfloat16's precision.
Output RoundToBFloat16(Output x, Name name = {});
// [..] integer indices -> [.., depth]; an index outside [0, depth) gives an all-`off` row.
Output OneHot(Output indices, int64_t depth, double on = 1.0, double off = 0.0,
              DType dtype = DType::kFloat32, Name name = {});
Output Identity(Output x, Name name = {});      // a copy
Output StopGradient(Output x, Name name = {});  // passes values, blocks gradients
Output ZerosLike(Output x, Name name = {});
Output OnesLike(Output x, Name name = {});
Output Size(Output x, DType dtype, Name name = {});  // element count as a scalar
// Shapes taken from another tensor at run time (batch dimensions unknown when building).
Output ReshapeLike(Output x, Output like, Name name = {});
Output BroadcastLike(Output x, Output like, Name name = {});
Output ReduceToShapeLike(Output x, Output like, Name name = {});  // sums broadcast axes away

// ---- random (seeded, counter-based: same seed, same numbers, any thread count) ----
// Uniform [0,1) shaped like x; a new draw on every Session::run.
Output RandomUniformLike(Output x, uint64_t seed, Name name = {});

}  // namespace horn::ops

namespace horn {
// ---- operators; a double operand becomes a scalar constant of the other's dtype ----
Output operator+(Output a, Output b);
Output operator-(Output a, Output b);
Output operator*(Output a, Output b);
Output operator/(Output a, Output b);
Output operator-(Output a);
Output operator+(Output a, double b);
Output operator-(Output a, double b);
Output operator*(Output a, double b);
Output operator/(Output a, double b);
Output operator+(double a, Output b);
Output operator-(double a, Output b);
Output operator*(double a, Output b);
Output operator/(double a, Output b);

}  // namespace horn
