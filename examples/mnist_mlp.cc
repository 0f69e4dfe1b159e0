// The brief's network on MNIST: 784 -> 500 sigmoid -> 500 sigmoid -> 10 softmax,
// categorical cross-entropy, Adam, mini-batches of 100, 20 epochs. Then evaluate, save,
// reload, and check that the reloaded model scores the same.
//
//   bazel run //examples:mnist_mlp -- --epochs=20 --batch_size=100 --optimizer=adam
//       --seed=1234 --threads=0 --save=/tmp/mnist_mlp.horn --data=DIR --train_limit=N
//       --mixed_bfloat16   (Keras's mixed_precision.set_global_policy("mixed_bfloat16"))
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "core/memory_tuning.h"
#include "keras_api/keras.h"
#include "examples/flags.h"

int main(int argc, char** argv) {
  horn::set_keep_freed_memory(true);  // training speed: see core/memory_tuning.h
  using namespace horn::keras;
  try {
    horn::examples::Flags flags(argc, argv, {{"epochs", "20"}, {"batch_size", "100"}, {"optimizer", "adam"},
                                             {"seed", "1234"}, {"threads", "0"}, {"save", "/tmp/mnist_mlp.horn"},
                                             {"data", ""}, {"train_limit", "0"}, {"verbose", "1"},
                                             {"mixed_bfloat16", "false"}});
    if (flags.boolean("mixed_bfloat16")) mixed_precision::set_global_policy("mixed_bfloat16");
    auto [train, test] = datasets::mnist::load_data(flags.str("data"));
    Tensor x_train = utils::flatten_and_scale(train.first, 1.0 / 255);
    Tensor y_train = utils::to_categorical(train.second, 10);
    Tensor x_test = utils::flatten_and_scale(test.first, 1.0 / 255);
    Tensor y_test = utils::to_categorical(test.second, 10);
    if (const int64_t limit = flags.integer("train_limit"); limit > 0 && limit < x_train.dim(0)) {
      x_train = x_train.slice_rows(0, limit);
      y_train = y_train.slice_rows(0, limit);
    }
    std::cout << "x_train " << x_train.shape() << ", y_train " << y_train.shape() << ", x_test " << x_test.shape()
              << "\n";

    Sequential model({.seed = static_cast<uint64_t>(flags.integer("seed")),
                      .num_threads = static_cast<int>(flags.integer("threads"))});
    model.add(Dense(500, {.input_dim = 784, .activation = "sigmoid"}));
    model.add(Dense(500, {.activation = "sigmoid"}));
    model.add(Dense(10, {.activation = "softmax"}));
    model.summary();
    model.compile({.loss = "categorical_crossentropy", .optimizer = flags.str("optimizer"), .metrics = {"accuracy"}});
    const int epochs = static_cast<int>(flags.integer("epochs"));
    const auto start = std::chrono::steady_clock::now();
    model.fit(x_train, y_train,
              {.batch_size = flags.integer("batch_size"), .epochs = epochs,
               .verbose = static_cast<int>(flags.integer("verbose"))});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "Training time: " << seconds << " s (" << seconds / std::max(epochs, 1) << " s per epoch)\n";

    std::vector<double> score = model.evaluate(x_test, y_test);
    std::cout << "Test loss: " << score[0] << "\nTest accuracy: " << score[1] << "\n";

    const std::string path = flags.str("save");
    model.save(path);
    Sequential reloaded = load_model(path);
    std::vector<double> again = reloaded.evaluate(x_test, y_test);
    const bool same = model.predict(x_test).bitwise_equal(reloaded.predict(x_test));
    std::cout << "Saved to " << path << "; reloaded model: test accuracy " << again[1]
              << (same ? " (predictions bitwise identical)" : " (PREDICTIONS DIFFER)") << "\n";
    return same ? 0 : 1;
  } catch (const horn::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
