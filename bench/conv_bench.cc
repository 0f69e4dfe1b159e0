// Convolution and pooling through Session::run, at Keras's mnist_cnn shapes (batch 128) and
// one larger layer (3x3, 64 to 64 channels over 56x56, batch 32), with GFLOP/s and the
// fraction of the machine's float32 FMA peak. The BF16 rows take bfloat16 operands (float32
// result, AMX through oneDNN): the convolutions of the mixed_bfloat16 policy, without its casts.
//
//   bazel run //bench:ops -- --benchmark_filter='Conv|Pool|BatchNorm'
#include <benchmark/benchmark.h>

#include "core/session.h"
#include "keras_api/keras.h"
#include "ops/ops.h"

namespace horn {
namespace {

constexpr DType f32 = DType::kFloat32;
// AVX-512 float32 FMA peak of one core here: 2 FMA units x 16 lanes x 2 flops x ~3.8 GHz
// (../shared/perf/KERNEL_LIBRARIES.md measures ~485 GFLOP/s for two cores).
constexpr double kPeakPerCore = 242.5e9;

enum class Pass { kForward, kInputGrad, kFilterGrad };

// n, h, w, c, kernel, filters, padding ("same" = 1), threads.
void ConvArgs(benchmark::internal::Benchmark* b) {
  for (auto s : std::vector<std::vector<int64_t>>{{128, 28, 28, 1, 3, 32, 0}, {128, 26, 26, 32, 3, 64, 0},
                                                  {32, 56, 56, 64, 3, 64, 1}})
    for (int64_t threads : {1, 2}) {
      auto args = s;
      args.push_back(threads);
      b->Args(args);
    }
  b->ArgNames({"n", "h", "w", "c", "k", "f", "same", "threads"});
}

template <Pass kPass, DType kDtype>
void BM_Conv2D(benchmark::State& state) {
  const int64_t n = state.range(0), h = state.range(1), w = state.range(2), c = state.range(3), k = state.range(4),
                f = state.range(5);
  const std::string padding = state.range(6) ? "same" : "valid";
  const int threads = static_cast<int>(state.range(7));
  Graph g;
  Output x = ops::Placeholder(g, kDtype, {n, h, w, c}, "x");
  Output filter = ops::Placeholder(g, kDtype, {k, k, c, f}, "filter");
  Output y = ops::Conv2D(x, filter, {1, 1}, padding);
  const Shape ys = y.shape();
  Output dy = ops::Placeholder(g, kDtype, ys, "dy");
  Output fetch = kPass == Pass::kForward    ? y
                 : kPass == Pass::kInputGrad ? ops::Conv2DBackpropInput(dy, filter, x.shape(), {1, 1}, padding)
                                             : ops::Conv2DBackpropFilter(x, dy, filter.shape(), {1, 1}, padding);
  const Session::Feeds feeds{{x, Tensor::uniform(f32, {n, h, w, c}, -1, 1, 1).cast(kDtype)},
                             {filter, Tensor::uniform(f32, {k, k, c, f}, -1, 1, 2).cast(kDtype)},
                             {dy, Tensor::uniform(f32, ys, -1, 1, 3).cast(kDtype)}};
  Session s(g, {.num_threads = threads});
  s.run(feeds, fetch);
  for (auto _ : state) benchmark::DoNotOptimize(s.run(feeds, fetch));
  const double flops = 2.0 * ys.num_elements() * k * k * c;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["of_peak"] =
      benchmark::Counter(flops / (kPeakPerCore * threads), benchmark::Counter::kIsIterationInvariantRate);
}
constexpr DType bf16 = DType::kBFloat16;
BENCHMARK_TEMPLATE(BM_Conv2D, Pass::kForward, f32)->Name("BM_Conv2D")->Apply(ConvArgs)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Conv2D, Pass::kForward, bf16)->Name("BM_Conv2DBF16")->Apply(ConvArgs)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Conv2D, Pass::kInputGrad, f32)->Name("BM_Conv2DBackpropInput")->Apply(ConvArgs)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Conv2D, Pass::kInputGrad, bf16)
    ->Name("BM_Conv2DBackpropInputBF16")
    ->Apply(ConvArgs)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_Conv2D, Pass::kFilterGrad, f32)->Name("BM_Conv2DBackpropFilter")->Apply(ConvArgs)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Conv2D, Pass::kFilterGrad, bf16)
    ->Name("BM_Conv2DBackpropFilterBF16")
    ->Apply(ConvArgs)
    ->UseRealTime();

// mnist_cnn's pooling: 2x2 over [128, 24, 24, 64], forward and gradient.
template <bool kMax, bool kGrad>
void BM_Pool(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  Graph g;
  Output x = ops::Placeholder(g, f32, {128, 24, 24, 64}, "x");
  Output y = kMax ? ops::MaxPool2D(x) : ops::AvgPool2D(x);
  Output dy = ops::Placeholder(g, f32, y.shape(), "dy");
  Output fetch = !kGrad ? y
                 : kMax ? ops::MaxPoolGrad(x, dy, {2, 2}, {2, 2}, "valid")
                        : ops::AvgPoolGrad(dy, x.shape(), {2, 2}, {2, 2}, "valid");
  const Session::Feeds feeds{{x, Tensor::uniform(f32, x.shape(), -1, 1, 1)}, {dy, Tensor::uniform(f32, y.shape(), -1, 1, 2)}};
  Session s(g, {.num_threads = threads});
  s.run(feeds, fetch);
  for (auto _ : state) benchmark::DoNotOptimize(s.run(feeds, fetch));
  state.SetBytesProcessed(state.iterations() * (x.shape().num_elements() + y.shape().num_elements()) * 4);
}
BENCHMARK_TEMPLATE(BM_Pool, true, false)->Name("BM_MaxPool2D")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Pool, true, true)->Name("BM_MaxPoolGrad")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Pool, false, false)->Name("BM_AvgPool2D")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Pool, false, true)->Name("BM_AvgPoolGrad")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// Batch normalization over mnist_cnn's conv2 output [128, 24, 24, 64] (Keras layer; a global
// average pool and a mean squared error close the model): a training step (batch
// statistics, moving-average updates, gradients, SGD) and inference (moving averages).
template <bool kTrain>
void BM_BatchNormalization(benchmark::State& state) {
  using namespace keras;
  Sequential m({.num_threads = static_cast<int>(state.range(0))});
  m.add(BatchNormalization({.input_shape = {24, 24, 64}}));
  m.add(GlobalAveragePooling2D());
  m.compile({.loss = "mse", .optimizer = "sgd"});
  const Tensor x = Tensor::uniform(f32, {128, 24, 24, 64}, -1, 1, 1);
  const Tensor y = Tensor::uniform(f32, {128, 64}, -1, 1, 2);
  auto step = [&] {
    if constexpr (kTrain) benchmark::DoNotOptimize(m.train_on_batch(x, y));
    else benchmark::DoNotOptimize(m.predict_on_batch(x));
  };
  step();
  for (auto _ : state) step();
  state.SetBytesProcessed(state.iterations() * x.size() * 4);
}
BENCHMARK_TEMPLATE(BM_BatchNormalization, true)->Name("BM_BatchNormalizationTrainStep")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_BatchNormalization, false)->Name("BM_BatchNormalizationPredict")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace horn
