// Dropout(x) with attributes "rate" and "seed": element i is kept with probability 1 - rate
// and scaled by 1 / (1 - rate), else zeroed. The mask is element i of the counter-based
// stream (seed, run index), so it is never stored: the gradient is Dropout of the incoming
// gradient with the same attributes, which regenerates the same mask in the same run. One
// pass forward and one backward, where uniform draws, a comparison, a product and a select
// took five ops and three temporaries.
#include "core/random.h"
#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

AttrMap dropout_attrs(double rate, uint64_t seed) {
  return {{"rate", rate}, {"seed", static_cast<int64_t>(seed)}};
}

void dropout_kernel(KernelContext& k) {
  const double rate = k.attrs().get<double>("rate");
  const uint64_t seed = static_cast<uint64_t>(k.attrs().get<int64_t>("seed"));
  const uint64_t key = random::stream_key(seed, k.run_index);
  kernels::dispatch_float(k.input(0).dtype(), [&](auto v) {
    using T = decltype(v);
    const T* x = k.input(0).data<T>();
    T* y = k.output().data<T>();
    // The same roundings as the uniform-compare-multiply chain this op replaced.
    const T threshold = static_cast<T>(rate), scale = static_cast<T>(1.0 / (1.0 - rate));
    parallel_blocks(k.output().size(), kElementwiseBlock, [=](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {  // branch-free (and captured by value): it vectorises
        const T kept = x[i] * scale;
        y[i] = static_cast<T>(random::uniform01_at(key, i)) >= threshold ? kept : T(0);
      }
    });
  });
}

HORN_REGISTER_OP({
    .name = "Dropout", .num_inputs = 1, .traits = kStateful | kRandom | kInPlace,
    .shape_fn = [](ShapeContext& c) {
      const double rate = c.attrs().get<double>("rate");
      if (!(rate > 0 && rate < 1)) c.error("rate must be in (0, 1), got ", rate);
      shape_fns::unary_float(c);
    },
    .kernel = dropout_kernel,
    .gradient = [](Node& n, const std::vector<Output>& g) -> std::vector<Output> {
      return {n.graph->add_node("Dropout", {g[0]}, n.attrs)->output()};
    },
});

}  // namespace

Output Dropout(Output x, double rate, uint64_t seed) {
  if (rate < 0 || rate >= 1) fail("Dropout: rate must be in [0, 1), got ", rate);
  if (!x.valid()) fail("Dropout: the input is not set");
  if (rate == 0) return Identity(x);
  return x.graph().add_node("Dropout", {x}, dropout_attrs(rate, seed))->output();
}

}  // namespace horn::ops
