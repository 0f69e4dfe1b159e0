// TensorFlow 1's DataSet.next_batch, for training loops written on the graph API:
//
//   datasets::Batches train(x_train, y_train, {.seed = 1});
//   for (int step = 0; step < 1000; ++step) {
//     auto [xs, ys] = train.next_batch(100);
//     session.run({{x, xs}, {y_, ys}}, {loss}, train_step);
//   }
//
// As TensorFlow's: the examples are shuffled before the first epoch and at each epoch's end;
// a batch that crosses an epoch's end takes the rest of that epoch, then the start of the
// next. The order is a function of the seed alone.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace horn::keras::datasets {

struct BatchesOptions {
  bool shuffle = true;
  uint64_t seed = 0;
};

class Batches {
 public:
  // x and y: the same number of rows (examples); throws otherwise.
  Batches(Tensor x, Tensor y, BatchesOptions options = {});
  // The next batch_size examples (rows of x and of y); batch_size in 1..num_examples().
  std::pair<Tensor, Tensor> next_batch(int64_t batch_size);
  int64_t num_examples() const { return x_.dim(0); }
  int epochs_completed() const { return epochs_completed_; }

 private:
  void start_epoch();
  Tensor x_, y_;
  BatchesOptions options_;
  std::vector<int64_t> order_;
  int64_t position_ = 0;
  int epochs_completed_ = 0;
};

}  // namespace horn::keras::datasets
