// FusedReduce, made by the compiler's reduction fusion (XLA's input fusion): an elementwise
// program whose result is summed over some axes in the same pass, each piece of the result
// reduced while it is still in cache. Output 0 is the sum (or mean); with "keep_values" the
// program's result is output 1 as well (multi-output fusion: a bias gradient's dZ is also
// read by the weight-gradient GEMM).
//
// The sums are associated exactly as kernels::reduce associates them (see kReduceBlock), and
// Eigen's sum of a piece sees it at the same address alignment as the unfused kernel would
// (Eigen peels unaligned leading elements), so fused and unfused results are bitwise equal.
#include "ops/ops.h"
#include "ops/program_runner.h"
#include "ops/reduction.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using kernels::kColumnBlock;
using kernels::kReduceBlock;

// Elements computed per call of the program when reducing rows or columns (16 of the
// program runner's chunks; it sets no bits).
constexpr int64_t kPiece = 4096;

// Room for n values placed so that the first sits at the alignment that element `at` of
// an aligned tensor would have (Eigen's sum then peels the same leading elements).
template <typename T>
T* piece(int64_t n, int64_t at) {
  constexpr int64_t kLanes = 64 / sizeof(T);
  return kernels::thread_scratch<T, kernels::ScratchSlot::kReduction>(n + kLanes) + at % kLanes;
}

template <typename T>
void fused_reduce(KernelContext& k) {
  const Shape& space = k.attrs().get<Shape>("shape");
  std::vector<int> axes;
  for (int64_t a : k.attrs().get<std::vector<int64_t>>("axes")) axes.push_back(static_cast<int>(a));
  const kernels::ReductionLayout l = kernels::reduction_layout(space, axes);
  HORN_ASSERT(l.contiguous && space.num_elements() > 0, "FusedReduce '", k.node.name, "': bad reduction");
  const bool keep = k.attrs().get<bool>("keep_values");
  T* values = keep ? k.output(1).data<T>() : nullptr;
  kernels::ProgramRunner<T> program(program_of(k.node), k.inputs, space, values);
  if (k.attrs().has("bfloat16_copy")) program.set_bfloat16_copy(k.outputs.back().data<bfloat16>());
  // The program's values at elements [s, e), in `values` or in scratch at the same alignment.
  auto compute = [&](int64_t s, int64_t e) {
    T* dst = keep ? values + s : piece<T>(e - s, s);
    program.run(s, e, dst);
    return static_cast<const T*>(dst);
  };
  T* y = k.output(0).data<T>();
  if (l.inner == 1 && l.outer == 1) {  // everything: partial sums of fixed blocks, added in order
    const int64_t blocks = (l.reduced + kReduceBlock - 1) / kReduceBlock;
    std::vector<T> partial(blocks);
    parallel_blocks(blocks, 1, [&](int64_t b, int64_t) {
      const int64_t s = b * kReduceBlock, e = std::min(l.reduced, s + kReduceBlock);
      partial[b] = kernels::ConstArrayMap<T>(compute(s, e), e - s).sum();
    });
    T acc = 0;
    for (T p : partial) acc += p;
    y[0] = acc;
  } else if (l.inner == 1) {  // rows: each summed whole
    const int64_t rows_per_piece = std::max<int64_t>(1, kPiece / l.reduced);
    parallel_blocks(l.outer, std::max<int64_t>(1, kElementwiseBlock / l.reduced), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r += rows_per_piece) {
        const int64_t rows = std::min(rows_per_piece, r1 - r);
        const T* v = compute(r * l.reduced, (r + rows) * l.reduced);
        for (int64_t i = 0; i < rows; ++i) y[r + i] = kernels::ConstArrayMap<T>(v + i * l.reduced, l.reduced).sum();
      }
    });
  } else {  // a middle axis: rows of `inner` values accumulated in order, per column and row block
    // With one column block, whole rows are contiguous: compute several per call.
    const int64_t rows_per_piece = l.inner <= kColumnBlock ? std::max<int64_t>(1, kPiece / l.inner) : 1;
    auto sum_rows = [&](int64_t o, int64_t c0, int64_t width, int64_t r0, int64_t r1, T* dst) {
      kernels::MutArrayMap<T> acc(dst, width);
      acc.setZero();
      for (int64_t r = r0; r < r1; r += rows_per_piece) {
        const int64_t rows = std::min(rows_per_piece, r1 - r);
        const int64_t s = (o * l.reduced + r) * l.inner + c0;
        const T* v = compute(s, s + (rows - 1) * l.inner + width);
        for (int64_t i = 0; i < rows; ++i) acc += kernels::ConstArrayMap<T>(v + i * l.inner, width);
      }
    };
    kernels::reduce_middle_axis(l, /*max=*/false, y, sum_rows);
  }
  if (k.attrs().get<bool>("mean")) {
    const int64_t count = space.num_elements() / k.output(0).size();
    kernels::MutArrayMap<T>(y, k.output(0).size()) *= T(1) / T(count);
  }
}

HORN_REGISTER_OP({
    .name = "FusedReduce", .num_inputs = -1, .num_outputs = -1, .traits = kReduction | kBFloat16Copy,
    .shape_fn = [](ShapeContext& c) {
      const Shape& shape = c.attrs().get<Shape>("shape");
      const DType dtype = c.attrs().get<DType>("dtype");
      shape_fns::validate_program(c, shape, dtype);
      if (!program_of(c.node).stored_externals().empty()) c.error("a reduction's program cannot store into variables");
      c.set_output(dtype, c.attrs().get<Shape>("reduced_shape"));
      if (c.attrs().get<bool>("keep_values")) c.set_output(dtype, shape);
      if (c.attrs().has("bfloat16_copy") && !c.attrs().get<bool>("keep_values"))
        c.error("a bfloat16 copy needs the values kept (keep_values)");
      shape_fns::add_bfloat16_copy(c, shape, dtype);
    },
    .kernel = [](KernelContext& k) {
      kernels::dispatch_float(k.output(0).dtype(), [&](auto v) { fused_reduce<decltype(v)>(k); });
    },
    .differentiable = false,  // made by the compiler after differentiation
    .role = OpRole::kFusedReduce,
});

}  // namespace
}  // namespace horn::ops
