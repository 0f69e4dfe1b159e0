// MatMul: C = op(A) * op(B) on oneDNN's GEMM (float32 and bfloat16 operands, where oneDNN
// runs them) or Eigen's (double, and float32 without oneDNN).
// Transposes are views (oneDNN reads a transposed A from a per-panel copy).
// Large products are split into fixed column or row panels of C run in parallel; the panels
// depend only on the shapes, so the bits do not depend on the thread count.
//
// Mixed precision: A and B may both be bfloat16; C is then float32 (the products of bfloat16
// values are exact in float32 and summed in float32), on oneDNN's AMX kernels.
#include <Eigen/Core>
#include <atomic>
#include <functional>

#include "ops/bfloat16_copies.h"
#include "ops/kernel_util.h"
#include "ops/onednn_gemm.h"
#include "ops/ops.h"
#include "ops/program_runner.h"
#include "ops/reduction.h"
#include "ops/shape_fns.h"
#include "ops/transpose_tiles.h"

namespace horn::ops {
namespace {

using Grads = std::vector<Output>;

// Panel width of C per task, and the work below which one call is cheaper than tasks.
constexpr int64_t kPanel = 128;
constexpr int64_t kParallelFlops = 1 << 20;
// float32 products run on oneDNN where it runs (brgemm), whatever their size. On the Intel
// Xeon of issue 13's fourth part it was 1.7x Eigen's speed at 1024^3 and level with it at
// the seed model's shapes (its per-call repacking of B into 50-row halves cost what its
// kernel gained); on an AMD EPYC (Zen 5) it is 1.3-1.7x Eigen's at those shapes too
// (bench/README.md, issue 13, seventh part).

// Called on the thread that just computed block [r0, r0 + rows) x [c0, c0 + cols) of C,
// with where that block is and its row stride.
template <typename T>
using PanelFn = std::function<void(int64_t r0, int64_t rows, int64_t c0, int64_t cols, T* panel, int64_t ld)>;

// Calls block(r0, rows, c0, cols) for fixed panels of C [m, n] (k: the inner dimension),
// in parallel. Row panels whenever there are rows for two: they are contiguous in C, so an
// epilogue runs over each as one range (per-row calls of a long update program cost more
// than the arithmetic). Column panels only for short, wide products (a batch of 100 x 500),
// unless `rows_only` (oneDNN's kernels need C's rows whole), which takes two halves.
// The panels depend only on the shapes: the same bits for any thread count.
template <typename Fn>
void for_each_panel(int64_t m, int64_t n, int64_t k, bool rows_only, Fn&& block) {
  if (m * n * k < kParallelFlops) {
    block(0, m, 0, n);
  } else if (m < 2 * kPanel && n > m && !rows_only) {
    parallel_blocks(n, kPanel, [&](int64_t c0, int64_t c1) { block(0, m, c0, c1 - c0); });
  } else {
    // Short products on oneDNN: two equal halves (a batch of 100 splits 50/50, not 64/36).
    const int64_t panel = m >= 2 * kPanel ? kPanel : rows_only ? (m + 1) / 2 : kPanel / 2;
    parallel_blocks(m, panel, [&](int64_t r0, int64_t r1) { block(r0, r1 - r0, 0, n); });
  }
}

// Block [r0, r0 + rows) x [c0, c0 + cols) of op(A) op(B) into `out` (row stride ld), on
// Eigen: A and B of dtype T.
template <typename T>
void eigen_block(const Tensor& a, const Tensor& b, bool ta, bool tb, int64_t r0, int64_t rows, int64_t c0,
                 int64_t cols, T* out_data, int64_t ld) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const Mat> A(a.data<T>(), a.dim(0), a.dim(1));
  Eigen::Map<const Mat> B(b.data<T>(), b.dim(0), b.dim(1));
  Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>> out(out_data, rows, cols, Eigen::OuterStride<>(ld));
  auto lhs_rows = [&](auto&& op_a) { return op_a.middleRows(r0, rows); };
  auto rhs_cols = [&](auto&& op_b) { return op_b.middleCols(c0, cols); };
  if (!ta && !tb) out.noalias() = lhs_rows(A) * rhs_cols(B);
  else if (!ta && tb) out.noalias() = lhs_rows(A) * rhs_cols(B.transpose());
  else if (ta && !tb) out.noalias() = lhs_rows(A.transpose()) * rhs_cols(B);
  else out.noalias() = lhs_rows(A.transpose()) * rhs_cols(B.transpose());
}

// The same block on oneDNN (one thread: ops/onednn_gemm.h), from bfloat16 or float32 A and
// B. op(B)'s columns c0.. are a strided view. Rows r0.. of A^T are copied to per-thread
// scratch first, through register tiles: oneDNN's brgemm kernels need the rows of A
// contiguous (strided ones fall back to gemm:jit, about half as fast), and the copy is
// rows x k of a GEMM that is rows x k x n.
template <typename In>
void onednn_block(const Tensor& a, const Tensor& b, bool ta, bool tb, int64_t r0, int64_t rows, int64_t c0,
                  int64_t cols, float* out, int64_t ld) {
  using View = kernels::MatrixView<In>;
  const int64_t k = ta ? a.dim(0) : a.dim(1);
  const In* pa = a.data<In>();
  const In* pb = b.data<In>();
  if (ta) {
    In* rows_of_at = kernels::thread_scratch<In, kernels::ScratchSlot::kOperand>(rows * k);
    kernels::transpose_tiles(pa + r0, k, rows, a.dim(1), rows_of_at, k);  // A's columns r0.. as rows
    pa = rows_of_at;
  }
  const View va = ta ? View{pa, rows, k, k, 1} : View{pa + r0 * a.dim(1), rows, k, a.dim(1), 1};
  const View vb = tb ? View{pb + c0 * b.dim(1), k, cols, 1, b.dim(1)} : View{pb + c0, k, cols, b.dim(1), 1};
  kernels::onednn_gemm(va, vb, out, ld);
}

// bfloat16 operands as float32, exactly: where oneDNN has no bfloat16 GEMM (a CPU without
// AVX-512), the float32 GEMM of the widened inputs gives the same product up to the order
// of the float32 sums.
Tensor as_float32_operand(const Tensor& t) { return t.dtype() == DType::kBFloat16 ? t.cast(DType::kFloat32) : t; }

// C [m, n] = op(A) op(B) in T, A and B of dtype T or both bfloat16 (T = float), panel by
// panel, into `c` when given; otherwise each panel goes to per-thread scratch that
// after_panel consumes before the thread computes its next panel (the weight-gradient GEMM
// fused with an optimizer update never holds all of dW). A panel's bits are the same
// wherever it is written.
template <typename T>
void matmul(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb, int64_t m, int64_t n, T* c,
            const PanelFn<T>& after_panel = {}) {
  if (m == 0 || n == 0) return;
  const bool bf16 = a_in.dtype() == DType::kBFloat16;
  const int64_t k = ta ? a_in.dim(0) : a_in.dim(1);
  const bool on_onednn = bf16 ? kernels::onednn_bf16_gemm_available()
                              : std::is_same_v<T, float> && kernels::onednn_f32_gemm_available();
  const Tensor a = bf16 && !on_onednn ? as_float32_operand(a_in) : a_in;
  const Tensor b = bf16 && !on_onednn ? as_float32_operand(b_in) : b_in;
  for_each_panel(m, n, k, on_onednn, [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
    T* panel = c ? c + r0 * n + c0 : kernels::thread_scratch<T, kernels::ScratchSlot::kPanel>(rows * cols);
    const int64_t ld = c ? n : cols;
    if (k == 0) {
      for (int64_t r = 0; r < rows; ++r) std::fill_n(panel + r * ld, cols, T(0));
    } else if constexpr (std::is_same_v<T, float>) {
      if (on_onednn && bf16) onednn_block<bfloat16>(a, b, ta, tb, r0, rows, c0, cols, panel, ld);
      else if (on_onednn) onednn_block<float>(a, b, ta, tb, r0, rows, c0, cols, panel, ld);
      else eigen_block<T>(a, b, ta, tb, r0, rows, c0, cols, panel, ld);
    } else {
      eigen_block<T>(a, b, ta, tb, r0, rows, c0, cols, panel, ld);
    }
    if (after_panel) after_panel(r0, rows, c0, cols, panel, ld);
  });
}

void matmul_shape(ShapeContext& c) {
  const DType out = shape_fns::product_output_dtype(c);
  const Shape &a = c.input_shapes[0], &b = c.input_shapes[1];
  if (a.rank() != 2 || b.rank() != 2) c.error(a, " x ", b, ": both inputs must be matrices (rank 2)");
  const bool ta = c.attrs().get<bool>("transpose_a"), tb = c.attrs().get<bool>("transpose_b");
  const int64_t ka = ta ? a[0] : a[1], kb = tb ? b[1] : b[0];
  if (ka >= 0 && kb >= 0 && ka != kb)
    c.error(a, ta ? "^T" : "", " x ", b, tb ? "^T" : "", ": inner dimensions ", ka, " and ", kb, " differ");
  c.set_output(out, Shape{ta ? a[1] : a[0], tb ? b[0] : b[1]});
}

// For C = op(A) op(B), the gradients are again products with transpose flags. With
// bfloat16 inputs, dC is rounded to bfloat16 for the products and each gradient is rounded
// to its input's dtype, as Keras's mixed_bfloat16 computes gradients in the compute dtype.
Grads matmul_gradient(Node& n, const Grads& g) {
  Output a = n.inputs[0], b = n.inputs[1], dc = g[0];
  const bool bf16 = a.dtype() == DType::kBFloat16;
  if (bf16) dc = Cast(dc, DType::kBFloat16);
  const bool ta = n.attrs.get<bool>("transpose_a"), tb = n.attrs.get<bool>("transpose_b");
  Grads grads;
  if (!ta && !tb) grads = {MatMul(dc, b, false, true), MatMul(a, dc, true, false)};
  else if (!ta && tb) grads = {MatMul(dc, b, false, false), MatMul(dc, a, true, false)};
  else if (ta && !tb) grads = {MatMul(b, dc, false, true), MatMul(a, dc, false, false)};
  else grads = {MatMul(b, dc, true, true), MatMul(dc, a, true, true)};
  if (bf16) for (Output& d : grads) d = Cast(d, DType::kBFloat16);
  return grads;
}

// Multiply-adds: what decides whether a node is worth a task of its own.
int64_t gemm_work(const Node& n) {
  const Shape& a = n.inputs[0].shape();
  return n.output_shapes[0].num_elements() * (n.attrs.get<bool>("transpose_a") ? a.dim(0) : a.dim(1));
}

HORN_REGISTER_OP({
    .name = "MatMul", .num_inputs = 2,
    .shape_fn = matmul_shape,
    .kernel = [](KernelContext& k) {
      const bool ta = k.attrs().get<bool>("transpose_a"), tb = k.attrs().get<bool>("transpose_b");
      kernels::dispatch_float(k.output().dtype(), [&](auto v) {
        using T = decltype(v);
        matmul<T>(k.input(0), k.input(1), ta, tb, k.output().dim(0), k.output().dim(1), k.output().data<T>());
      });
    },
    .gradient = matmul_gradient,
    .epilogue = {.op = "FusedMatMul", .update_op = "FusedMatMulAssign"},
    .work = gemm_work,
});

// The product's shape; the epilogue program runs over it.
void fused_matmul_shape(ShapeContext& c) {
  if (c.input_shapes.size() < 2) c.error("needs a and b");
  matmul_shape(c);
  shape_fns::validate_program(c, c.output_shapes[0], c.output_dtypes[0], /*epilogue=*/true);
}

// Output 1 of a FusedMatMul with "column_sum": the sums (or means) of C's columns, made by
// the compiler's reduction fusion from the bias gradient that reads C. A panel that holds
// whole columns sums them right after its epilogue; row panels leave it to one pass at the
// end. Columns are summed as kernels::reduce sums a middle axis (ops/reduction.h): in
// blocks of kReduceRows rows, each from its first row down, the blocks' partials added in
// order. The same bits.
template <typename T>
void column_sums(const T* c, int64_t m, int64_t n, int64_t c0, int64_t cols, T* sums) {
  const int64_t blocks = kernels::row_blocks(m);
  std::vector<T> partial(blocks > 1 ? blocks * cols : 0);
  for (int64_t b = 0; b < blocks; ++b) {
    kernels::MutArrayMap<T> acc(blocks == 1 ? sums + c0 : partial.data() + b * cols, cols);
    acc.setZero();
    for (int64_t r = b * kernels::kReduceRows; r < std::min(m, (b + 1) * kernels::kReduceRows); ++r)
      acc += kernels::ConstArrayMap<T>(c + r * n + c0, cols);
  }
  if (blocks > 1) kernels::combine_row_blocks(partial.data(), blocks, cols, cols, /*max=*/false, sums + c0);
}

// FusedMatMul, made by the compiler: MatMul followed by an elementwise epilogue (bias add,
// activation, ...) applied to each panel of C right after the GEMM wrote it, while it is
// hot in cache. Inputs: a, b, then the epilogue's other operands. In the "program"
// (core/fused_program.h) external 0 is the product and external j >= 1 is input j + 1.
HORN_REGISTER_OP({
    .name = "FusedMatMul", .num_inputs = -1, .num_outputs = -1, .traits = kColumnSums | kBFloat16Copy,
    .shape_fn = [](ShapeContext& c) {
      fused_matmul_shape(c);
      if (!program_of(c.node).stored_externals().empty()) c.error("an epilogue cannot store: use FusedMatMulAssign");
      const Shape product = c.output_shapes[0];
      const DType dtype = c.output_dtypes[0];
      if (c.attrs().has("column_sum")) c.set_output(dtype, c.attrs().get<Shape>("reduced_shape"));
      shape_fns::add_bfloat16_copy(c, product, dtype);
    },
    .kernel = [](KernelContext& k) {
      const bool ta = k.attrs().get<bool>("transpose_a"), tb = k.attrs().get<bool>("transpose_b");
      std::vector<Tensor> externals{k.output()};
      externals.insert(externals.end(), k.inputs.begin() + 2, k.inputs.end());
      kernels::dispatch_float(k.output().dtype(), [&](auto v) {
        using T = decltype(v);
        T* c = k.output().data<T>();
        kernels::ProgramRunner<T> epilogue(program_of(k.node), externals, k.output().shape(), c);
        if (k.attrs().has("bfloat16_copy")) epilogue.set_bfloat16_copy(k.outputs.back().data<bfloat16>());
        const int64_t m = k.output().dim(0), n = k.output().dim(1);
        T* sums = k.attrs().has("column_sum") ? k.output(1).data<T>() : nullptr;
        std::atomic<bool> summed{false};
        matmul<T>(k.input(0), k.input(1), ta, tb, m, n, c, [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols, T*, int64_t) {
          if (cols == n) epilogue.run(r0 * n, (r0 + rows) * n);  // whole rows: one range
          else for (int64_t r = r0; r < r0 + rows; ++r) epilogue.run(r * n + c0, r * n + c0 + cols);
          if (sums && rows == m) {
            column_sums(c, m, n, c0, cols, sums);
            summed = true;
          }
        });
        if (!sums) return;
        if (!summed && m > 0) column_sums(c, m, n, int64_t{0}, n, sums);
        if (m == 0) kernels::MutArrayMap<T>(sums, n).setZero();
        if (k.attrs().get<bool>("mean")) kernels::MutArrayMap<T>(sums, n) *= T(1) / T(m);
      });
    },
    .differentiable = false,  // made by the compiler after differentiation
    .work = gemm_work,
});

// External j of the update program is input j + 1 (external 0 is the product).
std::vector<int> stored_gemm_inputs(const Node& node) {
  std::vector<int> inputs = program_of(node).stored_externals();
  for (int& i : inputs) ++i;
  return inputs;
}

// FusedMatMulAssign, made by the compiler: a weight-gradient GEMM whose only reader is a
// fused optimizer update (a FusedAssign program). Each panel of dW goes to per-thread
// scratch and the update of the weight and its slots runs on it right away, so dW never
// exists whole. Inputs and program as FusedMatMul's. The output is the last store's
// variable, as for FusedAssign.
HORN_REGISTER_OP({
    .name = "FusedMatMulAssign", .num_inputs = -1, .traits = kStateful | kWritesVariable | kKeepsBFloat16Copies,
    .shape_fn = fused_matmul_shape,
    .kernel = [](KernelContext& k) {
      const bool ta = k.attrs().get<bool>("transpose_a"), tb = k.attrs().get<bool>("transpose_b");
      const Shape& shape = k.output_shapes[0];
      const DType dtype = k.node.output_dtypes[0];
      const FusedProgram& p = program_of(k.node);
      std::vector<Tensor> externals{Tensor()};  // external 0: the panels, from scratch
      externals.insert(externals.end(), k.inputs.begin() + 2, k.inputs.end());
      const bool stores_last = p.ends_with_store();
      k.output() = stores_last ? externals[p.instructions.back().args[0].index] : Tensor(dtype, shape);
      const KeptBFloat16Copies kept(k);
      kernels::dispatch_float(dtype, [&](auto v) {
        using T = decltype(v);
        T* y = stores_last ? nullptr : k.output().data<T>();
        kernels::ProgramRunner<T> update(p, externals, shape, y, kernels::ProgramRunner<T>::Product::kFromPanels);
        kept.attach(update, 1);
        const int64_t n = shape.dim(1);
        matmul<T>(k.input(0), k.input(1), ta, tb, shape.dim(0), n, nullptr,
                  [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols, T* panel, int64_t ld) {
                    if (cols == n) {  // whole rows: the panel is one contiguous range
                      update.run(r0 * n, (r0 + rows) * n, y ? y + r0 * n : nullptr, panel);
                      return;
                    }
                    for (int64_t r = r0; r < r0 + rows; ++r)
                      update.run(r * n + c0, r * n + c0 + cols, y ? y + r * n + c0 : nullptr, panel + (r - r0) * ld);
                  });
      });
      kept.mark_current();
    },
    .differentiable = false,
    .kernel_sets_outputs = true,
    .written_inputs = stored_gemm_inputs,
    .work = gemm_work,
});

}  // namespace

Output MatMul(Output a, Output b, bool transpose_a, bool transpose_b, Name name) {
  return a.graph().add_node("MatMul", {a, b}, {{"transpose_a", transpose_a}, {"transpose_b", transpose_b}},
                            name)->output();
}

}  // namespace horn::ops
