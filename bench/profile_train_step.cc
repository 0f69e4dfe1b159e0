// Per-node time of a training step after compilation, slowest first: where a step's time
// goes. Models: the seed MLP (784-500 sigmoid-500 sigmoid-10 softmax, Adam, batch 100) or
// Keras's mnist_cnn (Adadelta, batch 128); mlp_bf16 and cnn_bf16: those under mixed_bfloat16.
//
//   bazel run //bench:profile_train_step -- 2 [1 [mlp|cnn|mlp_bf16|cnn_bf16]]  # threads, concurrent nodes, model
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "bench/models.h"
#include "core/compiler/compiler.h"
#include "core/memory_tuning.h"
#include "keras_api/keras.h"

using namespace horn;
using namespace horn::keras;

int main(int argc, char** argv) {
  horn::set_keep_freed_memory(true);  // training speed: see core/memory_tuning.h
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const bool concurrent = argc > 2 ? std::atoi(argv[2]) != 0 : true;
  const std::string model = argc > 3 ? argv[3] : "mlp";
  const bool cnn = model == "cnn" || model == "cnn_bf16";
  const bool bf16 = model == "mlp_bf16" || model == "cnn_bf16";
  // Layers take the global policy when they are made.
  if (model == "cnn_bf16") mixed_precision::set_global_policy("mixed_bfloat16");
  Sequential m = cnn ? bench::mnist_cnn(threads) : bench::seed_mlp(threads, false, bf16 ? "mixed_bfloat16" : "float32");
  const int64_t batch = cnn ? 128 : 100;
  Session s(m.graph(), {.num_threads = threads, .concurrent_nodes = concurrent, .profile = true});
  s.initialize_variables();
  Tensor y = bench::cycling_one_hot(batch);
  const Shape x_shape = cnn ? Shape{batch, 28, 28, 1} : Shape{batch, 784};
  Session::Feeds feeds{{m.input(), Tensor::uniform(DType::kFloat32, x_shape, 0, 1, 1)},
                       {m.target(), y},
                       {m.sample_weights(), Tensor::fill(DType::kFloat32, {x_shape.dim(0)}, 1.0)}};
  for (int i = 0; i < (cnn ? 20 : 200); ++i) s.run(feeds, {m.total_loss()}, m.training_updates());
  std::cout << s.plan_summary(feeds, {m.total_loss()}, m.training_updates()).to_string() << "\n";
  std::cout << s.profile_report();
  // The step's wall time without per-node timing (the sum above counts concurrent nodes twice).
  Session plain(m.graph(), {.num_threads = threads, .concurrent_nodes = concurrent});
  plain.initialize_variables();
  const int steps = cnn ? 20 : 300;
  for (int i = 0; i < steps / 10; ++i) plain.run(feeds, {m.total_loss()}, m.training_updates());
  const auto start = std::chrono::steady_clock::now();
  Tensor loss;
  for (int i = 0; i < steps; ++i) loss = plain.run(feeds, {m.total_loss()}, m.training_updates())[0];
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::cout << "wall: " << ms / steps << " ms per step (" << steps << " steps, profiling off)\n";
  // In hexadecimal, every bit: two builds that compute the same step print the same loss.
  std::cout << "last loss: " << std::hexfloat << loss.data<float>()[0] << "\n";
}
