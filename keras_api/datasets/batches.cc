#include "keras_api/datasets/batches.h"

#include <algorithm>
#include <span>

#include "core/errors.h"
#include "core/random.h"

namespace horn::keras::datasets {

Batches::Batches(Tensor x, Tensor y, BatchesOptions options)
    : x_(std::move(x)), y_(std::move(y)), options_(options) {
  if (!x_.defined() || !y_.defined()) fail("Batches: x and y must both be given");
  if (x_.shape().rank() == 0 || y_.shape().rank() == 0)
    fail("Batches: x and y need a first (example) dimension; got shapes ", x_.shape(), " and ", y_.shape());
  if (x_.dim(0) != y_.dim(0))
    fail("Batches: x has ", x_.dim(0), " examples (shape ", x_.shape(), ") but y has ", y_.dim(0), " (shape ",
         y_.shape(), ")");
  if (x_.dim(0) == 0) fail("Batches: no examples");
  start_epoch();
}

void Batches::start_epoch() {
  const int64_t n = num_examples();
  if (options_.shuffle) {
    order_ = random::permutation(n, options_.seed, 0xba7c0000ull + epochs_completed_);
  } else {
    order_.resize(n);
    for (int64_t i = 0; i < n; ++i) order_[i] = i;
  }
  position_ = 0;
}

std::pair<Tensor, Tensor> Batches::next_batch(int64_t batch_size) {
  if (batch_size < 1 || batch_size > num_examples())
    fail("Batches::next_batch: batch_size must be in 1..", num_examples(), " (the number of examples), got ",
         batch_size);
  std::vector<int64_t> rows;
  rows.reserve(batch_size);
  while (static_cast<int64_t>(rows.size()) < batch_size) {
    if (position_ == num_examples()) {
      ++epochs_completed_;
      start_epoch();
    }
    const int64_t take = std::min(batch_size - static_cast<int64_t>(rows.size()), num_examples() - position_);
    rows.insert(rows.end(), order_.begin() + position_, order_.begin() + position_ + take);
    position_ += take;
  }
  const std::span<const int64_t> picked(rows);
  return {x_.gather_rows(picked), y_.gather_rows(picked)};
}

}  // namespace horn::keras::datasets
