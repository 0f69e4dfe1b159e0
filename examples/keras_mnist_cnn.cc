// Keras's classic examples/mnist_cnn.py in Horn: Conv2D 32 3x3 relu, Conv2D 64 3x3 relu,
// MaxPooling2D 2x2, Dropout 0.25, Flatten, Dense 128 relu, Dropout 0.5, Dense 10 softmax;
// Adadelta (learning rate 1.0, rho 0.95); batch 128; 12 epochs; test set as validation data.
// Keras reports 99.25% test accuracy after 12 epochs.
//
//   bazel run //examples:keras_mnist_cnn -- --epochs=12 --threads=0
//       --mixed_bfloat16   (Keras's mixed_precision.set_global_policy("mixed_bfloat16"):
//                          convolutions and Dense on bfloat16 operands, AMX through oneDNN)
#include <iostream>

#include "core/memory_tuning.h"
#include "examples/flags.h"
#include "keras_api/keras.h"

int main(int argc, char** argv) {
  using namespace horn::keras;
  using namespace horn::keras::kw;  // keyword arguments: epochs = 12, ...
  horn::set_keep_freed_memory(true);  // training speed: see core/memory_tuning.h
  try {
    horn::examples::Flags flags(argc, argv, {{"epochs", "12"}, {"batch_size", "128"}, {"seed", "1234"},
                                             {"threads", "0"}, {"data", ""}, {"verbose", "1"},
                                             {"mixed_bfloat16", "false"}});
    if (flags.boolean("mixed_bfloat16")) mixed_precision::set_global_policy("mixed_bfloat16");
    const int num_classes = 10;
    const int64_t img_rows = 28, img_cols = 28;
    auto [train, test] = datasets::mnist::load_data(flags.str("data"));
    Tensor x_train = utils::to_nhwc_and_scale(train.first, 1.0 / 255);  // [60000,28,28,1]
    Tensor x_test = utils::to_nhwc_and_scale(test.first, 1.0 / 255);
    std::cout << "x_train shape: " << x_train.shape() << "\n"
              << x_train.dim(0) << " train samples\n" << x_test.dim(0) << " test samples\n";
    Tensor y_train = utils::to_categorical(train.second, num_classes);
    Tensor y_test = utils::to_categorical(test.second, num_classes);

    Sequential model(seed = flags.integer("seed"), num_threads = flags.integer("threads"));
    model.add(Conv2D(32, {3, 3}, activation = "relu", input_shape = {img_rows, img_cols, 1}));
    model.add(Conv2D(64, {3, 3}, activation = "relu"));
    model.add(MaxPooling2D(pool_size = {2, 2}));
    model.add(Dropout(0.25));
    model.add(Flatten());
    model.add(Dense(128, activation = "relu"));
    model.add(Dropout(0.5));
    model.add(Dense(num_classes, activation = "softmax"));
    model.summary();
    model.compile(loss = "categorical_crossentropy", optimizer = optimizers::Adadelta(), metrics = {"accuracy"});
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
