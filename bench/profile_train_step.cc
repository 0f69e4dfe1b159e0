// Per-node time of the seed model's training step (784-500 sigmoid-500 sigmoid-10
// softmax, Adam, batch 100) after compilation, slowest first: where a step's time goes.
//
//   bazel run //bench:profile_train_step -- 2 [0]  # thread count [, 0: one node at a time]
#include <cstdlib>
#include <iostream>

#include "core/compiler/compiler.h"
#include "core/memory_tuning.h"
#include "keras_api/keras.h"

using namespace horn;
using namespace horn::keras;

int main(int argc, char** argv) {
  horn::set_keep_freed_memory(true);  // training speed: see core/memory_tuning.h
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const bool concurrent = argc > 2 ? std::atoi(argv[2]) != 0 : true;
  Sequential m({.num_threads = threads});
  m.add(Dense(500, {.input_dim = 784, .activation = "sigmoid"}));
  m.add(Dense(500, {.activation = "sigmoid"}));
  m.add(Dense(10, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  Session s(m.graph(), {.num_threads = threads, .concurrent_nodes = concurrent, .profile = true});
  s.initialize_variables();
  Tensor y = Tensor::zeros(DType::kFloat32, {100, 10});
  for (int i = 0; i < 100; ++i) y.at<float>({i, i % 10}) = 1;
  Session::Feeds feeds{{m.input(), Tensor::uniform(DType::kFloat32, {100, 784}, 0, 1, 1)}, {m.target(), y}};
  for (int i = 0; i < 200; ++i) s.run(feeds, {m.total_loss()}, m.training_updates());
  std::cout << s.plan_summary(feeds, {m.total_loss()}, m.training_updates()).to_string() << "\n";
  std::cout << s.profile_report();
}
