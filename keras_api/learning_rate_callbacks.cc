#include "keras_api/learning_rate_callbacks.h"

#include <cmath>
#include <cstdio>
#include <iostream>

#include "keras_api/sequential.h"

namespace horn::keras {

LearningRateScheduler::LearningRateScheduler(Schedule schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  if (!schedule_) fail("LearningRateScheduler: the schedule is empty");
}

void LearningRateScheduler::on_epoch_begin(int epoch, const Logs&) {
  const double lr = schedule_(epoch, model_->learning_rate());
  if (!std::isfinite(lr) || lr < 0)
    fail("LearningRateScheduler: the schedule returned ", lr, " for epoch ", epoch,
         "; a learning rate must be finite and >= 0");
  model_->set_learning_rate(lr);
  if (verbose_ > 0) {
    char line[96];
    std::snprintf(line, sizeof line, "\nEpoch %05d: LearningRateScheduler setting learning rate to %g.", epoch + 1, lr);
    std::cout << line << "\n";
  }
}

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options) : o_(std::move(options)) {
  if (!(o_.factor < 1)) fail("ReduceLROnPlateau: factor must be < 1 (it multiplies the rate), got ", o_.factor);
  if (!(o_.factor >= 0)) fail("ReduceLROnPlateau: factor must be >= 0, got ", o_.factor);
  if (o_.patience < 0 || o_.cooldown < 0)
    fail("ReduceLROnPlateau: patience and cooldown must be >= 0, got ", o_.patience, " and ", o_.cooldown);
  if (!(o_.min_lr >= 0)) fail("ReduceLROnPlateau: min_lr must be >= 0, got ", o_.min_lr);
  maximize_ = monitor_improves_upwards("ReduceLROnPlateau", o_.mode, o_.monitor);
}

void ReduceLROnPlateau::on_train_begin(const Logs&) {
  best_ = maximize_ ? -INFINITY : INFINITY;
  wait_ = 0;
  cooldown_counter_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(int epoch, const Logs& logs) {
  auto it = logs.find(o_.monitor);
  if (it == logs.end()) {
    if (!warned_) std::cerr << "ReduceLROnPlateau: '" << o_.monitor << "' is not in the logs; not reducing\n";
    warned_ = true;
    return;
  }
  const double current = it->second;
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool improved = maximize_ ? current > best_ + o_.min_delta : current < best_ - o_.min_delta;
  if (improved) {
    best_ = current;
    wait_ = 0;
  } else if (cooldown_counter_ == 0 && ++wait_ >= o_.patience) {  // Keras: the cooldown as it is now
    const double old_lr = model_->learning_rate();
    if (old_lr > o_.min_lr) {
      const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
      model_->set_learning_rate(new_lr);
      if (o_.verbose > 0) {
        char line[96];
        std::snprintf(line, sizeof line, "\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %g.", epoch + 1,
                      new_lr);
        std::cout << line << "\n";
      }
      cooldown_counter_ = o_.cooldown;
      wait_ = 0;
    }
  }
}

}  // namespace horn::keras
