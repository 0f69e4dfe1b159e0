// Per-node time of a training step after compilation, slowest first: where a step's time
// goes. Models: the seed MLP (784-500 sigmoid-500 sigmoid-10 softmax, Adam, batch 100) or
// Keras's mnist_cnn (Adadelta, batch 128).
//
//   bazel run //bench:profile_train_step -- 2 [1 [mlp|cnn]]  # threads, concurrent nodes, model
#include <cstdlib>
#include <iostream>
#include <string>

#include "core/compiler/compiler.h"
#include "core/memory_tuning.h"
#include "keras_api/keras.h"

using namespace horn;
using namespace horn::keras;

namespace {

Sequential seed_mlp(int threads) {
  Sequential m({.num_threads = threads});
  m.add(Dense(500, {.input_dim = 784, .activation = "sigmoid"}));
  m.add(Dense(500, {.activation = "sigmoid"}));
  m.add(Dense(10, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  return m;
}

Sequential mnist_cnn(int threads) {
  Sequential m({.num_threads = threads});
  m.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  m.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  m.add(MaxPooling2D({.pool_size = {2, 2}}));
  m.add(Dropout(0.25));
  m.add(Flatten());
  m.add(Dense(128, {.activation = "relu"}));
  m.add(Dropout(0.5));
  m.add(Dense(10, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::Adadelta(), .metrics = {"accuracy"}});
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  horn::set_keep_freed_memory(true);  // training speed: see core/memory_tuning.h
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const bool concurrent = argc > 2 ? std::atoi(argv[2]) != 0 : true;
  const bool cnn = argc > 3 && std::string(argv[3]) == "cnn";
  Sequential m = cnn ? mnist_cnn(threads) : seed_mlp(threads);
  const int64_t batch = cnn ? 128 : 100;
  Session s(m.graph(), {.num_threads = threads, .concurrent_nodes = concurrent, .profile = true});
  s.initialize_variables();
  Tensor y = Tensor::zeros(DType::kFloat32, {batch, 10});
  for (int i = 0; i < batch; ++i) y.at<float>({i, i % 10}) = 1;
  const Shape x_shape = cnn ? Shape{batch, 28, 28, 1} : Shape{batch, 784};
  Session::Feeds feeds{{m.input(), Tensor::uniform(DType::kFloat32, x_shape, 0, 1, 1)}, {m.target(), y}};
  for (int i = 0; i < (cnn ? 20 : 200); ++i) s.run(feeds, {m.total_loss()}, m.training_updates());
  std::cout << s.plan_summary(feeds, {m.total_loss()}, m.training_updates()).to_string() << "\n";
  std::cout << s.profile_report();
}
