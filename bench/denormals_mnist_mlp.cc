// Flush-to-zero on against off on Keras's mnist_mlp (512 relu, Dropout 0.2, 512 relu,
// Dropout 0.2, 10 softmax; RMSprop; batch 128): two copies of the model, same seed, trained
// epoch by epoch in turn in one process, so machine load falls on both alike. Per epoch:
// wall and CPU seconds of each, and how many of its weights are subnormal.
//
//   bazel run //bench:denormals_mnist_mlp -- [epochs=20] [threads=1]
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/memory_tuning.h"
#include "keras_api/keras.h"

using namespace horn;
using namespace horn::keras;

namespace {

Sequential mnist_mlp(int threads, bool flush_denormals) {
  Sequential m({.num_threads = threads, .flush_denormals = flush_denormals});
  m.add(Dense(512, {.activation = "relu", .input_shape = {784}}));
  m.add(Dropout(0.2));
  m.add(Dense(512, {.activation = "relu"}));
  m.add(Dropout(0.2));
  m.add(Dense(10, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::RMSprop(), .metrics = {"accuracy"}});
  return m;
}

double cpu_seconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int64_t subnormal_weights(Sequential& m) {
  int64_t n = 0;
  for (const Tensor& w : m.get_weights())
    for (float v : w.flat<float>()) n += std::fpclassify(v) == FP_SUBNORMAL;
  return n;
}

struct EpochCost {
  double wall, cpu;
};

EpochCost train_one_epoch(Sequential& m, const Tensor& x, const Tensor& y, int epoch) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  m.fit(x, y, {.batch_size = 128, .epochs = epoch + 1, .verbose = 0, .initial_epoch = epoch});
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), cpu_seconds() - cpu0};
}

}  // namespace

int main(int argc, char** argv) {
  set_keep_freed_memory(true);
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 20;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  auto [train, test] = datasets::mnist::load_data();
  Tensor x = utils::flatten_and_scale(train.first, 1.0 / 255);
  Tensor y = utils::to_categorical(train.second, 10);
  Sequential on = mnist_mlp(threads, true), off = mnist_mlp(threads, false);
  std::printf("epoch | FTZ on: wall s, cpu s, subnormal weights | FTZ off: wall s, cpu s, subnormal weights | off/on cpu\n");
  double total_on = 0, total_off = 0;
  for (int e = 0; e < epochs; ++e) {
    // Alternate which goes first, so neither always gets the warmer (or the busier) slot.
    EpochCost c_on{}, c_off{};
    if (e % 2 == 0) {
      c_on = train_one_epoch(on, x, y, e);
      c_off = train_one_epoch(off, x, y, e);
    } else {
      c_off = train_one_epoch(off, x, y, e);
      c_on = train_one_epoch(on, x, y, e);
    }
    total_on += c_on.cpu;
    total_off += c_off.cpu;
    std::printf("%5d | %6.2f %6.2f %8lld | %6.2f %6.2f %8lld | %.2f\n", e + 1, c_on.wall, c_on.cpu,
                static_cast<long long>(subnormal_weights(on)), c_off.wall, c_off.cpu,
                static_cast<long long>(subnormal_weights(off)), c_off.cpu / c_on.cpu);
    std::fflush(stdout);
  }
  std::printf("total cpu s: on %.1f, off %.1f (off/on %.2f)\n", total_on, total_off, total_off / total_on);
  return 0;
}
