// Keras's learning-rate callbacks. Both change the optimizer's learning-rate variable
// (Sequential::set_learning_rate) between epochs: nothing is recompiled.
//
//   model.fit(x, y, {.epochs = 30, .callbacks = {
//       std::make_shared<LearningRateScheduler>([](int epoch, double lr) { return epoch < 10 ? lr : lr * 0.9; }),
//       std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateauOptions{.factor = 0.2, .patience = 5})}});
#pragma once
#include <functional>
#include <string>

#include "keras_api/callbacks.h"

namespace horn::keras {

// Sets the learning rate to schedule(epoch, current rate) at the start of every epoch
// (epochs counted from 0, as Keras); verbose 1 prints Keras's line for each change.
class LearningRateScheduler : public Callback {
 public:
  using Schedule = std::function<double(int epoch, double lr)>;
  explicit LearningRateScheduler(Schedule schedule, int verbose = 0);
  void on_epoch_begin(int epoch, const Logs& logs) override;

 private:
  Schedule schedule_;
  int verbose_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;  // new rate = rate * factor; must be < 1
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";  // "min", "max" or "auto" (max for accuracies)
  double min_delta = 1e-4;
  int cooldown = 0;  // epochs to wait after a reduction before counting again
  double min_lr = 0;
};

// Multiplies the learning rate by `factor` once `monitor` has not improved by more than
// `min_delta` for `patience` epochs (Keras 2.3's rule, cooldown and min_lr included).
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  template <KeywordArgument... K>
  explicit ReduceLROnPlateau(const K&... kw) : ReduceLROnPlateau(with_keywords<ReduceLROnPlateauOptions>(kw...)) {}
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  ReduceLROnPlateauOptions o_;
  bool maximize_;
  double best_ = 0;
  int wait_ = 0, cooldown_counter_ = 0;
  bool warned_ = false;
};

}  // namespace horn::keras
