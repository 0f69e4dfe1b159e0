// Keras's classic examples/mnist_mlp.py in Horn: 512 relu, Dropout 0.2, 512 relu,
// Dropout 0.2, 10 softmax; RMSprop; batch 128; 20 epochs; test set as validation data.
//
//   bazel run //examples:keras_mnist_mlp -- --epochs=20 --threads=0
//
// --flush_denormals=0 keeps IEEE subnormals (slower by the late epochs: bench/README.md).
#include <iostream>

#include "core/memory_tuning.h"
#include "examples/flags.h"
#include "keras_api/keras.h"

int main(int argc, char** argv) {
  horn::set_keep_freed_memory(true);  // training speed: see core/memory_tuning.h
  using namespace horn::keras;
  using namespace horn::keras::kw;  // keyword arguments: epochs = 20, ...
  try {
    horn::examples::Flags flags(argc, argv, {{"epochs", "20"}, {"batch_size", "128"}, {"seed", "1234"},
                                             {"threads", "0"}, {"data", ""}, {"verbose", "1"},
                                             {"flush_denormals", "1"}});
    const int num_classes = 10;
    auto [train, test] = datasets::mnist::load_data(flags.str("data"));
    Tensor x_train = utils::flatten_and_scale(train.first, 1.0 / 255);
    Tensor x_test = utils::flatten_and_scale(test.first, 1.0 / 255);
    std::cout << x_train.dim(0) << " train samples\n" << x_test.dim(0) << " test samples\n";
    Tensor y_train = utils::to_categorical(train.second, num_classes);
    Tensor y_test = utils::to_categorical(test.second, num_classes);

    Sequential model(seed = flags.integer("seed"), num_threads = flags.integer("threads"),
                     flush_denormals = flags.integer("flush_denormals") != 0);
    model.add(Dense(512, activation = "relu", input_shape = {784}));
    model.add(Dropout(0.2));
    model.add(Dense(512, activation = "relu"));
    model.add(Dropout(0.2));
    model.add(Dense(num_classes, activation = "softmax"));
    model.summary();
    model.compile(loss = "categorical_crossentropy", optimizer = optimizers::RMSprop(), metrics = {"accuracy"});
    model.fit(x_train, y_train, batch_size = flags.integer("batch_size"), epochs = flags.integer("epochs"),
              verbose = flags.integer("verbose"), validation_data = {x_test, y_test});
    std::vector<double> score = model.evaluate(x_test, y_test, verbose = 0);
    std::cout << "Test loss: " << score[0] << "\nTest accuracy: " << score[1] << "\n";
    return 0;
  } catch (const horn::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
