// Conv2D (NHWC input, HWIO filter, TensorFlow's "valid"/"same" padding, strides, dilations)
// and its two gradients, Conv2DBackpropInput and Conv2DBackpropFilter, each an op of its own
// and differentiable again (all three are bilinear: each one's gradients are the other two).
//
// Conv2D and Conv2DBackpropInput declare epilogue forms (FusedConv2D,
// FusedConv2DBackpropInput): the compiler's epilogue fusion hands them a bias add and an
// activation (or an activation gradient), applied to each finished piece of the output while
// it is in cache. Kernels: ops/conv_kernels.h.
//
// Mixed precision: both operands may be bfloat16; the result is then float32 (float32
// accumulation, on oneDNN's AMX GEMM), as MatMul's.
#include "core/bfloat16.h"
#include "ops/conv_kernels.h"
#include "ops/onednn_gemm.h"
#include "ops/ops.h"
#include "ops/program_runner.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using Grads = std::vector<Output>;
using kernels::WindowGeometry;

AttrMap conv_attrs(const Node& n, const std::string& shape_attr = {}, const Shape& shape = {}) {
  AttrMap a = kernels::window_attrs(n.attrs.get<std::vector<int64_t>>("strides"), n.attrs.get<std::string>("padding"),
                                    n.attrs.get_or<std::vector<int64_t>>("dilations", {1, 1}));
  if (!shape_attr.empty()) a.set(shape_attr, shape);
  return a;
}

// Checks a filter [KH, KW, C, F] against an input [N, H, W, C]; returns the geometry.
WindowGeometry check_conv(ShapeContext& c, const Shape& input, const Shape& filter) {
  if (filter.rank() != 4) c.error("the filter must be [height, width, in_channels, out_channels], got ", filter);
  if (filter.dim(0) < 0 || filter.dim(1) < 0) c.error("the filter's height and width must be known, got ", filter);
  if (input.rank() == 4 && input.dim(3) >= 0 && filter.dim(2) >= 0 && input.dim(3) != filter.dim(2))
    c.error("the input has ", input.dim(3), " channels but the filter expects ", filter.dim(2), " (input ", input,
            ", filter ", filter, ")");
  return kernels::window_geometry(input, filter.dim(0), filter.dim(1), c.attrs(), &c);
}

void check_output(ShapeContext& c, const WindowGeometry& g, const Shape& dy, int64_t filters) {
  if (dy.rank() != 4) c.error("the output gradient must be NHWC, got ", dy);
  const Shape expected{g.batch, g.out_h, g.out_w, filters};
  if (!expected.is_compatible_with(dy)) c.error("the output gradient has shape ", dy, " but the convolution makes ", expected);
}

void conv_shape(ShapeContext& c) {
  const DType out = shape_fns::product_output_dtype(c);
  const Shape &x = c.input_shapes[0], &w = c.input_shapes[1];
  const WindowGeometry g = check_conv(c, x, w);
  c.set_output(out, Shape{g.batch, g.out_h, g.out_w, w.dim(3)});
}

// Conv2DBackpropInput(dy, filter): attribute "input_shape" is x's (its batch may be -1: it
// is dy's at run time).
Shape input_grad_shape(const Shape& input_shape, const Shape& dy) {
  return Shape{dy.rank() == 4 ? dy.dim(0) : -1, input_shape.dim(1), input_shape.dim(2), input_shape.dim(3)};
}

void input_grad_shape_fn(ShapeContext& c) {
  const DType out = shape_fns::product_output_dtype(c);
  const Shape x = input_grad_shape(c.attrs().get<Shape>("input_shape"), c.input_shapes[0]);
  const Shape& w = c.input_shapes[1];
  check_output(c, check_conv(c, x, w), c.input_shapes[0], w.dim(3));
  c.set_output(out, x);
}

// Conv2DBackpropFilter(x, dy): attribute "filter_shape" (fully known).
void filter_grad_shape_fn(ShapeContext& c) {
  const DType out = shape_fns::product_output_dtype(c);
  const Shape& w = c.attrs().get<Shape>("filter_shape");
  if (!w.is_fully_known()) c.error("the filter shape must be known, got ", w);
  check_output(c, check_conv(c, c.input_shapes[0], w), c.input_shapes[1], w.dim(3));
  c.set_output(out, w);
}

WindowGeometry geometry(const Shape& x, const Shape& w, const AttrMap& attrs) {
  return kernels::window_geometry(x, w.dim(0), w.dim(1), attrs);
}

// Kernel<In, Out>::run(k, a, b) on the node's two operands a and b.
template <typename In, typename Out>
void forward(KernelContext& k, const Tensor& x, const Tensor& w, const kernels::FinishedRange& finished) {
  kernels::conv2d_forward(x.data<In>(), w.data<In>(), geometry(x.shape(), w.shape(), k.attrs()), w.dim(3),
                          k.output().data<Out>(), finished);
}

template <typename In, typename Out>
void input_grad(KernelContext& k, const Tensor& dy, const Tensor& w, const kernels::FinishedRange& finished) {
  const WindowGeometry g = geometry(k.output().shape(), w.shape(), k.attrs());
  kernels::conv2d_input_grad(dy.data<In>(), w.data<In>(), g, w.dim(3), k.output().data<Out>(), finished);
}

// The fused forms: the op, then the epilogue program (external 0: the output; external
// j >= 1: input j + 1) on each finished piece.
template <typename Out, typename Run>
void with_epilogue(KernelContext& k, Run&& run) {
  std::vector<Tensor> externals{k.output()};
  externals.insert(externals.end(), k.inputs.begin() + 2, k.inputs.end());
  kernels::ProgramRunner<Out> epilogue(program_of(k.node), externals, k.output().shape(), k.output().data<Out>());
  if (k.attrs().has("bfloat16_copy")) epilogue.set_bfloat16_copy(k.outputs.back().data<bfloat16>());
  run([&](int64_t begin, int64_t end) { epilogue.run(begin, end); });
}

// bfloat16 operands run on oneDNN's AMX GEMM with a float32 result; where oneDNN has no
// bfloat16 GEMM (a CPU without AVX-512) they are widened to float32 (exactly): the same
// product up to the order of the float32 sums.
template <template <typename, typename> class Kernel>
void dispatch(KernelContext& k) {
  const Tensor &a = k.input(0), &b = k.input(1);
  if (a.dtype() == DType::kBFloat16) {
    if (kernels::onednn_bf16_gemm_available()) return Kernel<bfloat16, float>::run(k, a, b);
    return Kernel<float, float>::run(k, a.cast(DType::kFloat32), b.cast(DType::kFloat32));
  }
  kernels::dispatch_float(a.dtype(), [&](auto v) {
    using T = decltype(v);
    Kernel<T, T>::run(k, a, b);
  });
}
template <typename In, typename Out>
struct Forward {
  static void run(KernelContext& k, const Tensor& a, const Tensor& b) { forward<In, Out>(k, a, b, {}); }
};
template <typename In, typename Out>
struct FusedForward {
  static void run(KernelContext& k, const Tensor& a, const Tensor& b) {
    with_epilogue<Out>(k, [&](const kernels::FinishedRange& f) { forward<In, Out>(k, a, b, f); });
  }
};
template <typename In, typename Out>
struct InputGrad {
  static void run(KernelContext& k, const Tensor& a, const Tensor& b) { input_grad<In, Out>(k, a, b, {}); }
};
template <typename In, typename Out>
struct FusedInputGrad {
  static void run(KernelContext& k, const Tensor& a, const Tensor& b) {
    with_epilogue<Out>(k, [&](const kernels::FinishedRange& f) { input_grad<In, Out>(k, a, b, f); });
  }
};
template <typename In, typename Out>
struct FilterGrad {
  static void run(KernelContext& k, const Tensor& x, const Tensor& dy) {
    const Shape& w = k.output().shape();
    kernels::conv2d_filter_grad(x.data<In>(), dy.data<In>(), geometry(x.shape(), w, k.attrs()), w.dim(3),
                                k.output().data<Out>());
  }
};

// With bfloat16 operands, the output gradient is rounded to bfloat16 for the products and
// each gradient to its input's dtype, as MatMul's (Keras's mixed_bfloat16 computes
// gradients in the compute dtype).
struct GradDtype {
  bool bf16;
  Output operator()(Output t) const { return bf16 ? Cast(t, DType::kBFloat16) : t; }
};

// Multiply-adds: output pixels x window x filters.
int64_t forward_work(const Node& n) {
  const Shape& w = n.inputs[1].shape();
  return n.output_shapes[0].num_elements() * w.dim(0) * w.dim(1) * w.dim(2);
}
int64_t input_grad_work(const Node& n) { return n.inputs[0].shape().num_elements() * n.inputs[1].shape().num_elements() / n.inputs[1].shape().dim(3); }
int64_t filter_grad_work(const Node& n) { return n.inputs[1].shape().num_elements() * n.output_shapes[0].num_elements() / n.output_shapes[0].dim(3); }

template <kernels::ConvPass kPass>
int64_t scratch(const Node& n) {
  const Shape& w = kPass == kernels::ConvPass::kFilterGrad ? n.output_shapes[0] : n.inputs[1].shape();
  const Shape& x = kPass == kernels::ConvPass::kInputGrad ? n.output_shapes[0] : n.inputs[0].shape();
  if (!x.is_fully_known()) return 0;
  return kernels::conv2d_scratch_bytes(geometry(x, w, n.attrs), w.dim(3), dtype_size(n.inputs[0].dtype()),
                                       dtype_size(n.output_dtypes[0]), kPass);
}

void fused_shape(ShapeContext& c, void (*base)(ShapeContext&)) {
  if (c.input_shapes.size() < 2) c.error("needs the op's two inputs");
  base(c);
  shape_fns::validate_program(c, c.output_shapes[0], c.output_dtypes[0], /*epilogue=*/true);
  if (!program_of(c.node).stored_externals().empty()) c.error("an epilogue cannot store into variables");
  const Shape y = c.output_shapes[0];
  shape_fns::add_bfloat16_copy(c, y, c.output_dtypes[0]);
}

HORN_REGISTER_OP({
    .name = "Conv2D", .num_inputs = 2,
    .shape_fn = conv_shape,
    .kernel = dispatch<Forward>,
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output x = n.inputs[0], w = n.inputs[1];
      const GradDtype as_input{x.dtype() == DType::kBFloat16};
      Output dy = as_input(g[0]);
      Graph& graph = x.graph();
      Output dx = graph.add_node("Conv2DBackpropInput", {dy, w}, conv_attrs(n, "input_shape", x.shape()))->output();
      Output dw = graph.add_node("Conv2DBackpropFilter", {x, dy}, conv_attrs(n, "filter_shape", w.shape()))->output();
      return {as_input(dx), as_input(dw)};
    },
    .epilogue = {.op = "FusedConv2D"},
    .work = forward_work,
    .scratch_bytes = scratch<kernels::ConvPass::kForward>,
});

HORN_REGISTER_OP({
    .name = "Conv2DBackpropInput", .num_inputs = 2,
    .shape_fn = input_grad_shape_fn,
    .kernel = dispatch<InputGrad>,
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output dy = n.inputs[0], w = n.inputs[1];
      const GradDtype as_input{dy.dtype() == DType::kBFloat16};
      Output ddx = as_input(g[0]);
      Graph& graph = dy.graph();
      Output d_dy = graph.add_node("Conv2D", {ddx, w}, conv_attrs(n))->output();
      Output dw = graph.add_node("Conv2DBackpropFilter", {ddx, dy}, conv_attrs(n, "filter_shape", w.shape()))->output();
      return {as_input(d_dy), as_input(dw)};
    },
    .epilogue = {.op = "FusedConv2DBackpropInput"},
    .work = input_grad_work,
    .scratch_bytes = scratch<kernels::ConvPass::kInputGrad>,
});

HORN_REGISTER_OP({
    .name = "Conv2DBackpropFilter", .num_inputs = 2,
    .shape_fn = filter_grad_shape_fn,
    .kernel = dispatch<FilterGrad>,
    .gradient = [](Node& n, const Grads& g) -> Grads {
      Output x = n.inputs[0], dy = n.inputs[1];
      const GradDtype as_input{x.dtype() == DType::kBFloat16};
      Output ddw = as_input(g[0]);
      Graph& graph = x.graph();
      Output dx = graph.add_node("Conv2DBackpropInput", {dy, ddw}, conv_attrs(n, "input_shape", x.shape()))->output();
      Output d_dy = graph.add_node("Conv2D", {x, ddw}, conv_attrs(n))->output();
      return {as_input(dx), as_input(d_dy)};
    },
    .work = filter_grad_work,
    .scratch_bytes = scratch<kernels::ConvPass::kFilterGrad>,
});

HORN_REGISTER_OP({
    .name = "FusedConv2D", .num_inputs = -1, .num_outputs = -1, .traits = kBFloat16Copy,
    .shape_fn = [](ShapeContext& c) { fused_shape(c, conv_shape); },
    .kernel = dispatch<FusedForward>,
    .differentiable = false,  // made by the compiler after differentiation
    .work = forward_work,
    .scratch_bytes = scratch<kernels::ConvPass::kForward>,
});

HORN_REGISTER_OP({
    .name = "FusedConv2DBackpropInput", .num_inputs = -1, .num_outputs = -1, .traits = kBFloat16Copy,
    .shape_fn = [](ShapeContext& c) { fused_shape(c, input_grad_shape_fn); },
    .kernel = dispatch<FusedInputGrad>,
    .differentiable = false,
    .work = input_grad_work,
    .scratch_bytes = scratch<kernels::ConvPass::kInputGrad>,
});

}  // namespace

Output Conv2D(Output x, Output filter, std::vector<int64_t> strides, const std::string& padding,
              std::vector<int64_t> dilations, Name name) {
  return x.graph().add_node("Conv2D", {x, filter}, kernels::window_attrs(strides, padding, dilations), name)->output();
}

Output Conv2DBackpropInput(Output dy, Output filter, const Shape& input_shape, std::vector<int64_t> strides,
                           const std::string& padding, std::vector<int64_t> dilations, Name name) {
  AttrMap attrs = kernels::window_attrs(strides, padding, dilations);
  attrs.set("input_shape", input_shape);
  return dy.graph().add_node("Conv2DBackpropInput", {dy, filter}, std::move(attrs), name)->output();
}

Output Conv2DBackpropFilter(Output x, Output dy, const Shape& filter_shape, std::vector<int64_t> strides,
                            const std::string& padding, std::vector<int64_t> dilations, Name name) {
  AttrMap attrs = kernels::window_attrs(strides, padding, dilations);
  attrs.set("filter_shape", filter_shape);
  return x.graph().add_node("Conv2DBackpropFilter", {x, dy}, std::move(attrs), name)->output();
}

}  // namespace horn::ops
