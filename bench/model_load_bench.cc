// What the guard against damaged HDF5 files (keras_api/hdf5_guard.h) costs load_model: the
// same .h5 and .keras files loaded with the check in a forked child and without it, for a small
// model and a 40 MB one, and with a 1 GB resident process (a fork copies its page tables).
//   bazel run //bench:model_load
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "keras_api/keras.h"

namespace horn::keras {
namespace {

// A Dense MLP whose weights take about `mb` MB, saved as `ext` once per process.
std::string saved_model(int mb, const std::string& ext) {
  const std::string path = "/tmp/horn_model_load_bench_" + std::to_string(::getpid()) + "_" + std::to_string(mb) + ext;
  if (::access(path.c_str(), R_OK) == 0) return path;
  const int64_t units = mb <= 1 ? 64 : 1000;
  const int layers = mb <= 1 ? 2 : mb / 4;  // a 1000x1000 float32 kernel is 4 MB
  Sequential m;
  m.add(Dense(units, {.input_dim = units, .activation = "relu"}));
  for (int i = 1; i < layers; ++i) m.add(Dense(units, {.activation = "relu"}));
  m.save(path);
  return path;
}

void BM_LoadModel(benchmark::State& state, const std::string& ext) {
  const bool guard = state.range(0) != 0;
  const int mb = static_cast<int>(state.range(1));
  const std::string path = saved_model(mb, ext);
  // Resident ballast, written so its pages exist: fork copies the page tables of all of it.
  std::vector<char> ballast(static_cast<size_t>(state.range(2)) << 20);
  std::memset(ballast.data(), 1, ballast.size());
  set_hdf5_read_limits({.check_in_child = guard});
  for (auto _ : state) benchmark::DoNotOptimize(load_model(path).count_params());
  set_hdf5_read_limits({});
  state.counters["ballast_mb"] = static_cast<double>(state.range(2));
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"guard", "mb", "ballast_mb"})->Unit(benchmark::kMillisecond);
  for (int guard : {0, 1})
    for (int mb : {1, 40}) b->Args({guard, mb, 0});
  b->Args({0, 1, 1024})->Args({1, 1, 1024});
}

BENCHMARK_CAPTURE(BM_LoadModel, h5, std::string(".h5"))->Apply(Args);
BENCHMARK_CAPTURE(BM_LoadModel, keras, std::string(".keras"))->Apply(Args);

}  // namespace
}  // namespace horn::keras

BENCHMARK_MAIN();
