#include "keras_api/callbacks.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>

#include "keras_api/sequential.h"

namespace horn::keras {

bool monitor_improves_upwards(const std::string& callback, const std::string& mode, const std::string& monitor) {
  if (mode == "max") return true;
  if (mode == "min") return false;
  if (mode != "auto") fail(callback, ": mode must be 'auto', 'min' or 'max', got '", mode, "'");
  return monitor.find("acc") != std::string::npos;
}

void History::on_train_begin(const Logs&) {}

void History::on_epoch_end(int e, const Logs& logs) {
  epoch.push_back(e);
  for (const auto& [k, v] : logs) history[k].push_back(v);
}

// ---- EarlyStopping ----

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : o_(std::move(options)), maximize_(monitor_improves_upwards("EarlyStopping", o_.mode, o_.monitor)) {
  if (o_.patience < 0) fail("EarlyStopping: patience must be >= 0, got ", o_.patience);
}

void EarlyStopping::on_train_begin(const Logs&) {
  wait_ = 0;
  stopped_epoch_ = 0;
  best_ = maximize_ ? -INFINITY : INFINITY;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, const Logs& logs) {
  auto it = logs.find(o_.monitor);
  if (it == logs.end()) {
    if (!warned_) std::cerr << "EarlyStopping: '" << o_.monitor << "' is not in the logs; not stopping\n";
    warned_ = true;
    return;
  }
  const double delta = std::abs(o_.min_delta);
  const bool improved = maximize_ ? it->second - delta > best_ : it->second + delta < best_;
  if (improved) {
    best_ = it->second;
    wait_ = 0;
    if (o_.restore_best_weights) best_weights_ = model_->get_weights();
  } else if (++wait_ >= o_.patience) {  // Keras: stop once `patience` epochs show no gain
    stopped_epoch_ = epoch;
    model_->stop_training = true;
    if (o_.restore_best_weights && !best_weights_.empty()) model_->set_weights(best_weights_);
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (stopped_epoch_ > 0 && o_.verbose > 0) std::cout << "Epoch " << stopped_epoch_ + 1 << ": early stopping\n";
}

// ---- ModelCheckpoint ----

std::string format_checkpoint_path(const std::string& pattern, int epoch, const Logs& logs) {
  return CheckpointPattern(pattern).format(epoch, logs);
}

ModelCheckpoint::ModelCheckpoint(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)), o_(std::move(options)), maximize_(monitor_improves_upwards("ModelCheckpoint", o_.mode, o_.monitor)),
      best_(maximize_ ? -INFINITY : INFINITY) {
  if (filepath_.text().empty()) fail("ModelCheckpoint: filepath is empty");
  if (o_.period < 1) fail("ModelCheckpoint: period must be >= 1, got ", o_.period);
}

void ModelCheckpoint::check_before_training(const std::vector<std::string>& names) const {
  for (const std::string& name : filepath_.log_names())
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      fail("ModelCheckpoint: filepath '", filepath_.text(), "' uses {", name,
           "}, which this training does not log (it logs epoch, ", known, ")");
    }
}

void ModelCheckpoint::on_epoch_end(int epoch, const Logs& logs) {
  if (++since_last_ < o_.period) return;
  since_last_ = 0;
  const std::string path = filepath_.format(epoch + 1, logs);
  if (o_.save_best_only) {
    auto it = logs.find(o_.monitor);
    if (it == logs.end()) {
      std::cerr << "ModelCheckpoint: can save best model only with '" << o_.monitor << "' available, skipping\n";
      return;
    }
    const bool better = maximize_ ? it->second > best_ : it->second < best_;
    if (!better) return;
    if (o_.verbose) std::cout << "Epoch " << epoch + 1 << ": " << o_.monitor << " improved to " << it->second
                              << ", saving model to " << path << "\n";
    best_ = it->second;
  } else if (o_.verbose) {
    std::cout << "Epoch " << epoch + 1 << ": saving model to " << path << "\n";
  }
  if (o_.save_weights_only) model_->save_weights(path);
  else model_->save(path);
}

// ---- TerminateOnNaN ----

void TerminateOnNaN::on_batch_end(int64_t batch, const Logs& logs) {
  auto it = logs.find("loss");
  if (it == logs.end() || std::isfinite(it->second)) return;
  std::cout << "Batch " << batch << ": Invalid loss, terminating training" << std::endl;
  model_->stop_training = true;
}

// ---- CSVLogger ----

CSVLogger::CSVLogger(std::string filename, std::string separator, bool append)
    : filename_(std::move(filename)), separator_(std::move(separator)), append_(append) {}

void CSVLogger::on_train_begin(const Logs&) {
  keys_.clear();
  if (!append_) {
    std::ofstream f(filename_, std::ios::trunc);
    if (!f) fail("CSVLogger: cannot write '", filename_, "'");
  }
}

void CSVLogger::on_epoch_end(int epoch, const Logs& logs) {
  std::ofstream f(filename_, std::ios::app);
  if (!f) fail("CSVLogger: cannot write '", filename_, "'");
  if (keys_.empty()) {
    for (const auto& [k, v] : logs) keys_.push_back(k);
    std::ifstream existing(filename_);
    const bool empty_file = existing.peek() == std::ifstream::traits_type::eof();
    if (empty_file) {
      f << "epoch";
      for (const auto& k : keys_) f << separator_ << k;
      f << "\n";
    }
  }
  f << epoch;
  f.precision(17);
  for (const auto& k : keys_) {
    auto it = logs.find(k);
    f << separator_;
    if (it != logs.end()) f << it->second;
  }
  f << "\n";
}

}  // namespace horn::keras
