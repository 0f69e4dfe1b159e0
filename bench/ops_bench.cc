// Op-level and end-to-end microbenchmarks. Every framework measurement goes through
// Session::run (plan lookup, shape inference, allocation, kernel), next to the raw kernel or
// the machine's limit where one exists, so overhead and headroom are visible.
//
//   bazel run -c opt //bench:ops                      # everything
//   bazel run -c opt //bench:ops -- --benchmark_filter=MatMul
//
// The last argument of each benchmark is the thread count.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstring>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include "core/memory_tuning.h"
#include "core/parallel.h"
#include "core/session.h"
#include "bench/models.h"
#include "keras_api/keras.h"
#include "ops/ops.h"

namespace horn {
namespace {

constexpr DType f32 = DType::kFloat32;

// Runs `fetch` (fed with `feeds`) repeatedly in a session with `threads` threads;
// `optimize` false runs the reference interpreter (no compiler passes, no fusion).
void run_graph(benchmark::State& state, Graph& g, const Session::Feeds& feeds, Output fetch, int threads,
               bool optimize = true) {
  Session s(g, {.num_threads = threads, .optimize = optimize});
  s.initialize_variables();
  s.run(feeds, fetch);  // warm-up: plan and buffers
  for (auto _ : state) benchmark::DoNotOptimize(s.run(feeds, fetch));
}

// ---- MatMul at the MLP's shapes: framework vs raw Eigen (Eigen is single-threaded here) ----

void MatMulArgs(benchmark::internal::Benchmark* b) {
  // m, k, n, transpose_a, transpose_b: forward, backward (dX = dY W^T, dW = X^T dY), square.
  for (auto s : std::vector<std::vector<int64_t>>{{100, 784, 500, 0, 0}, {100, 500, 500, 0, 0}, {100, 500, 10, 0, 0},
                                                  {100, 500, 784, 0, 1}, {784, 100, 500, 1, 0}, {500, 100, 500, 1, 0},
                                                  {1024, 1024, 1024, 0, 0}})
    for (int64_t threads : {1, 2}) {
      auto args = s;
      args.push_back(threads);
      b->Args(args);
    }
  b->ArgNames({"m", "k", "n", "ta", "tb", "threads"});
}

void set_flops(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_MatMul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool ta = state.range(3), tb = state.range(4);
  Graph g;
  Output a = ops::Placeholder(g, f32, ta ? Shape{k, m} : Shape{m, k}, "a");
  Output b = ops::Placeholder(g, f32, tb ? Shape{n, k} : Shape{k, n}, "b");
  Output c = ops::MatMul(a, b, ta, tb);
  Session::Feeds feeds{{a, Tensor::uniform(f32, a.shape(), -1, 1, 1)}, {b, Tensor::uniform(f32, b.shape(), -1, 1, 2)}};
  run_graph(state, g, feeds, c, static_cast<int>(state.range(5)));
  set_flops(state, 2.0 * m * n * k);
}
BENCHMARK(BM_MatMul)->Apply(MatMulArgs)->UseRealTime();

// The same products with bfloat16 inputs and a float32 result (oneDNN's AMX kernels, one
// thread per panel): the GEMM of the mixed_bfloat16 policy, inputs already cast.
void BM_MatMulBF16(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool ta = state.range(3), tb = state.range(4);
  constexpr DType bf16 = DType::kBFloat16;
  Graph g;
  Output a = ops::Placeholder(g, bf16, ta ? Shape{k, m} : Shape{m, k}, "a");
  Output b = ops::Placeholder(g, bf16, tb ? Shape{n, k} : Shape{k, n}, "b");
  Output c = ops::MatMul(a, b, ta, tb);
  Session::Feeds feeds{{a, Tensor::uniform(f32, a.shape(), -1, 1, 1).cast(bf16)},
                       {b, Tensor::uniform(f32, b.shape(), -1, 1, 2).cast(bf16)}};
  run_graph(state, g, feeds, c, static_cast<int>(state.range(5)));
  set_flops(state, 2.0 * m * n * k);
}
BENCHMARK(BM_MatMulBF16)->Apply(MatMulArgs)->UseRealTime();

void BM_MatMulRawEigen(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  if (state.range(5) != 1) {
    state.SkipWithError("raw Eigen runs single-threaded (EIGEN_DONT_PARALLELIZE)");
    return;
  }
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Mat a = Mat::Random(state.range(3) ? k : m, state.range(3) ? m : k);
  Mat b = Mat::Random(state.range(4) ? n : k, state.range(4) ? k : n);
  Mat c(m, n);
  for (auto _ : state) {
    if (state.range(3)) c.noalias() = a.transpose() * b;
    else if (state.range(4)) c.noalias() = a * b.transpose();
    else c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * m * n * k);
}
BENCHMARK(BM_MatMulRawEigen)->Apply(MatMulArgs)->UseRealTime();

// ---- elementwise and broadcast ----

void SizeThreadArgs(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1 << 20, 1 << 24})
    for (int64_t t : {1, 2}) b->Args({n, t});
  b->ArgNames({"n", "threads"});
}

template <Output (*Op)(Output, Output, ops::Name)>
void BM_Binary(benchmark::State& state) {
  const int64_t n = state.range(0);
  Graph g;
  Output a = ops::Placeholder(g, f32, {n}, "a"), b = ops::Placeholder(g, f32, {n}, "b");
  run_graph(state, g, {{a, Tensor::uniform(f32, {n}, -1, 1, 1)}, {b, Tensor::uniform(f32, {n}, -1, 1, 2)}},
            Op(a, b, {}), static_cast<int>(state.range(1)));
  state.SetBytesProcessed(state.iterations() * n * 4 * 3);  // read two, write one
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK_TEMPLATE(BM_Binary, ops::Add)->Name("BM_Add")->Apply(SizeThreadArgs)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Binary, ops::Mul)->Name("BM_Mul")->Apply(SizeThreadArgs)->UseRealTime();

template <Output (*Op)(Output, ops::Name)>
void BM_Unary(benchmark::State& state) {
  const int64_t n = state.range(0);
  Graph g;
  Output a = ops::Placeholder(g, f32, {n}, "a");
  run_graph(state, g, {{a, Tensor::uniform(f32, {n}, -3, 3, 1)}}, Op(a, {}), static_cast<int>(state.range(1)));
  state.SetBytesProcessed(state.iterations() * n * 4 * 2);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK_TEMPLATE(BM_Unary, ops::Sigmoid)->Name("BM_Sigmoid")->Apply(SizeThreadArgs)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, ops::Relu)->Name("BM_Relu")->Apply(SizeThreadArgs)->UseRealTime();

// sigmoid(a * b + a): fused into one pass by the compiler (optimize:1) or run op by op by
// the reference interpreter (optimize:0). Bytes counted: the minimum, read a and b, write once.
void BM_ElementwiseChain(benchmark::State& state) {
  const int64_t n = state.range(0);
  Graph g;
  Output a = ops::Placeholder(g, f32, {n}, "a"), b = ops::Placeholder(g, f32, {n}, "b");
  run_graph(state, g, {{a, Tensor::uniform(f32, {n}, -1, 1, 1)}, {b, Tensor::uniform(f32, {n}, -1, 1, 2)}},
            ops::Sigmoid(a * b + a), static_cast<int>(state.range(2)), state.range(1) != 0);
  state.SetBytesProcessed(state.iterations() * n * 4 * 3);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ElementwiseChain)
    ->ArgsProduct({{1 << 20, 1 << 24}, {0, 1}, {1, 2}})
    ->ArgNames({"n", "optimize", "threads"})
    ->UseRealTime();

void BM_BiasAdd(benchmark::State& state) {
  Graph g;
  Output x = ops::Placeholder(g, f32, {100, 500}, "x"), b = ops::Placeholder(g, f32, {500}, "b");
  run_graph(state, g, {{x, Tensor::uniform(f32, {100, 500}, -1, 1, 1)}, {b, Tensor::uniform(f32, {500}, -1, 1, 2)}},
            x + b, static_cast<int>(state.range(0)));
  state.SetBytesProcessed(state.iterations() * 100 * 500 * 4 * 2);
}
BENCHMARK(BM_BiasAdd)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// ---- softmax, cross-entropy, reductions ----

void RowsColsArgs(benchmark::internal::Benchmark* b) {
  for (auto rc : std::vector<std::pair<int64_t, int64_t>>{{100, 10}, {128, 1000}})
    for (int64_t t : {1, 2}) b->Args({rc.first, rc.second, t});
  b->ArgNames({"rows", "cols", "threads"});
}

void BM_Softmax(benchmark::State& state) {
  const int64_t r = state.range(0), c = state.range(1);
  Graph g;
  Output x = ops::Placeholder(g, f32, {r, c}, "x");
  run_graph(state, g, {{x, Tensor::uniform(f32, {r, c}, -5, 5, 1)}}, ops::Softmax(x), static_cast<int>(state.range(2)));
  state.SetBytesProcessed(state.iterations() * r * c * 4 * 2);
}
BENCHMARK(BM_Softmax)->Apply(RowsColsArgs)->UseRealTime();

void BM_SoftmaxCrossEntropyWithLogits(benchmark::State& state) {
  const int64_t r = state.range(0), c = state.range(1);
  Graph g;
  Output x = ops::Placeholder(g, f32, {r, c}, "x"), y = ops::Placeholder(g, f32, {r, c}, "y");
  Tensor onehot = Tensor::zeros(f32, {r, c});
  for (int64_t i = 0; i < r; ++i) onehot.at<float>({i, i % c}) = 1;
  run_graph(state, g, {{x, Tensor::uniform(f32, {r, c}, -5, 5, 1)}, {y, onehot}},
            ops::SoftmaxCrossEntropyWithLogits({.labels = y, .logits = x}), static_cast<int>(state.range(2)));
  state.SetBytesProcessed(state.iterations() * r * c * 4 * 2);
}
BENCHMARK(BM_SoftmaxCrossEntropyWithLogits)->Apply(RowsColsArgs)->UseRealTime();

template <Output (*Op)(Output, std::vector<int64_t>, bool, ops::Name)>
void BM_Reduce(benchmark::State& state) {
  const int64_t n = 1 << 24;
  Graph g;
  Output x = ops::Placeholder(g, f32, {n}, "x");
  run_graph(state, g, {{x, Tensor::uniform(f32, {n}, -1, 1, 1)}}, Op(x, {}, false, {}), static_cast<int>(state.range(0)));
  state.SetBytesProcessed(state.iterations() * n * 4);
}
BENCHMARK_TEMPLATE(BM_Reduce, ops::Sum)->Name("BM_Sum16M")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Reduce, ops::Mean)->Name("BM_Mean16M")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// ---- the machine's limits ----

void BM_StreamCopy(benchmark::State& state) {  // bandwidth ceiling: read n, write n
  const int64_t n = 1 << 24;
  std::vector<float> a(n, 1.0f), b(n);
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  for (auto _ : state)
    arena.execute([&] {
      parallel_blocks(n, kElementwiseBlock, [&](int64_t s, int64_t e) { std::memcpy(&b[s], &a[s], (e - s) * 4); });
    });
  state.SetBytesProcessed(state.iterations() * n * 4 * 2);
}
BENCHMARK(BM_StreamCopy)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

void BM_StreamTriad(benchmark::State& state) {  // a = b + s * c: read 2n, write n
  const int64_t n = 1 << 24;
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  for (auto _ : state)
    arena.execute([&] {
      parallel_blocks(n, kElementwiseBlock, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) a[i] = b[i] + 3.0f * c[i];
      });
    });
  state.SetBytesProcessed(state.iterations() * n * 4 * 3);
}
BENCHMARK(BM_StreamTriad)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// ---- optimizer updates: one fused program over a weight and its slots ----

// One Keras Adam step on the seed model's first kernel (784 x 500, with its m and v slots),
// the gradient fed: the compiler fuses the update into one FusedAssign program, so this is
// the program runner's speed. Bytes counted: read g, w, m, v; write w, m, v.
void BM_AdamUpdate(benchmark::State& state) {
  Graph g;
  const Shape shape{784, 500};
  Output w = ops::Variable(g, Tensor::uniform(f32, shape, -0.1, 0.1, 1), "w");
  Output grad = ops::Placeholder(g, f32, shape, "grad");
  keras::optimizers::Adam adam;
  const std::vector<Node*> step = adam.apply_gradients({grad}, {w});
  Session s(g, {.num_threads = static_cast<int>(state.range(0))});
  s.initialize_variables();
  const Session::Feeds feeds{{grad, Tensor::uniform(f32, shape, -1, 1, 2)}};
  s.run(feeds, {}, step);  // warm-up: plan and buffers
  for (auto _ : state) s.run(feeds, {}, step);
  state.SetBytesProcessed(state.iterations() * shape.num_elements() * 4 * 7);
  state.SetItemsProcessed(state.iterations() * shape.num_elements());
}
BENCHMARK(BM_AdamUpdate)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// ---- end to end: the brief's model ----

// One Adam step on a batch of 100; an epoch of MNIST is 600 of them (bench/report.py shows it).
// check:1 scans every node's output for NaN and infinity (SessionOptions::check_numerics).
void BM_SeedModelTrainStep(benchmark::State& state) {
  keras::Sequential m = bench::seed_mlp(static_cast<int>(state.range(0)), state.range(1) != 0);
  Tensor x = Tensor::uniform(f32, {100, 784}, 0, 1, 1);
  Tensor labels(DType::kInt32, {100});
  for (int i = 0; i < 100; ++i) labels.data<int32_t>()[i] = i % 10;
  Tensor y = keras::utils::to_categorical(labels, 10);
  m.train_on_batch(x, y);
  for (auto _ : state) benchmark::DoNotOptimize(m.train_on_batch(x, y));
  state.SetItemsProcessed(state.iterations() * 100);
  // 3 matmul passes (forward, dX, dW) of the three layers: 6 * batch * params-ish FLOPs.
  set_flops(state, 2.0 * 3 * 100 * (784 * 500 + 500 * 500 + 500 * 10));
}
BENCHMARK(BM_SeedModelTrainStep)
    ->ArgNames({"threads", "check"})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({2, 0})
    ->Args({2, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One Adadelta step of Keras's mnist_cnn on a batch of 128; an epoch is 469 of them.
// Counter epoch_s: the step's time scaled to a 60,000-image epoch (training only).
void BM_MnistCnnTrainStep(benchmark::State& state) {
  keras::Sequential m = bench::mnist_cnn(static_cast<int>(state.range(0)));
  const Tensor x = Tensor::uniform(f32, {128, 28, 28, 1}, 0, 1, 1);
  const Tensor y = bench::cycling_one_hot(128);
  m.train_on_batch(x, y);
  for (auto _ : state) benchmark::DoNotOptimize(m.train_on_batch(x, y));
  state.SetItemsProcessed(state.iterations() * 128);
  state.counters["epoch_s"] =
      benchmark::Counter(1.0 / 469, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_MnistCnnTrainStep)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The same step run directly on the graph: the compiled plan (optimize:1) against the
// reference interpreter (optimize:0); the compiled plan with independent nodes run
// concurrently (concurrent:1) or one at a time.
void BM_SeedModelTrainStepPlan(benchmark::State& state) {
  keras::Sequential m = bench::seed_mlp(1);
  Session s(m.graph(), {.num_threads = static_cast<int>(state.range(2)),
                        .optimize = state.range(0) != 0,
                        .concurrent_nodes = state.range(1) != 0});
  s.initialize_variables();
  Tensor y = Tensor::zeros(f32, {100, 10});
  for (int i = 0; i < 100; ++i) y.at<float>({i, i % 10}) = 1;
  const Session::Feeds feeds{{m.input(), Tensor::uniform(f32, {100, 784}, 0, 1, 1)},
                             {m.target(), y},
                             {m.sample_weights(), Tensor::fill(f32, {100}, 1.0)}};
  const std::vector<Output> loss{m.total_loss()};
  const std::vector<Node*>& updates = m.training_updates();
  s.run(feeds, loss, updates);
  for (auto _ : state) benchmark::DoNotOptimize(s.run(feeds, loss, updates));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_SeedModelTrainStepPlan)
    ->Args({0, 0, 1})
    ->Args({1, 0, 1})
    ->Args({0, 0, 2})
    ->Args({1, 0, 2})
    ->Args({1, 1, 2})
    ->ArgNames({"optimize", "concurrent", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_SeedModelPredict(benchmark::State& state) {  // 10,000 images in batches of 100
  keras::Sequential m = bench::seed_mlp(static_cast<int>(state.range(0)));
  Tensor x = Tensor::uniform(f32, {10000, 784}, 0, 1, 1);
  for (auto _ : state) benchmark::DoNotOptimize(m.predict(x, {.batch_size = 100}));
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_SeedModelPredict)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace horn

int main(int argc, char** argv) {
  horn::set_keep_freed_memory(true);  // as in training programs: see core/memory_tuning.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
