#include "ops/elementwise_driver.h"

#include <algorithm>
#include <type_traits>

#include "ops/kernel_util.h"  // dispatch_float

namespace horn::kernels {

void run_elementwise(const ElementwiseFn& fn, const std::vector<Tensor>& inputs, Tensor& out) {
  HORN_ASSERT(fn, "op has no elementwise function");
  dispatch_float(out.dtype(), [&](auto v) {
    using T = decltype(v);
    std::vector<const T*> in;
    for (const Tensor& t : inputs) in.push_back(t.data<T>());
    T* y = out.data<T>();
    auto call = [&](const T* const* args, T* dst, int64_t n) {
      if constexpr (std::is_same_v<T, float>) fn.f32(args, dst, n);
      else fn.f64(args, dst, n);
    };
    parallel_blocks(out.size(), kElementwiseBlock, [&](int64_t s, int64_t e) {
      // Whole SIMD packets straight into the (aligned) output; a ragged tail goes through
      // padded scratch, so that no element ever takes Eigen's scalar path (whose results
      // differ from its SIMD lanes in the last bit for exp, log, logistic, ...).
      const int64_t body = (e - s) / kSimdWidth * kSimdWidth;
      std::vector<const T*> at(in.size());
      if (body > 0) {
        for (size_t i = 0; i < in.size(); ++i) at[i] = in[i] + s;
        call(at.data(), y + s, body);
      }
      if (const int64_t tail = e - s - body; tail > 0) {
        std::vector<T, Eigen::aligned_allocator<T>> scratch((in.size() + 1) * kSimdWidth, T(0));
        for (size_t i = 0; i < in.size(); ++i) {
          std::copy_n(in[i] + s + body, tail, scratch.data() + i * kSimdWidth);
          at[i] = scratch.data() + i * kSimdWidth;
        }
        T* result = scratch.data() + in.size() * kSimdWidth;
        call(at.data(), result, kSimdWidth);
        std::copy_n(result, tail, y + s + body);
      }
    });
  });
}

void elementwise_kernel(KernelContext& k) { run_elementwise(k.node.op->elementwise, k.inputs, k.output()); }

}  // namespace horn::kernels
