// Callbacks with Keras's names and defaults: History, EarlyStopping, ModelCheckpoint,
// CSVLogger, TerminateOnNaN and LambdaCallback. Epochs are passed 0-based, as Keras does; file names and
// messages show them 1-based.
#pragma once
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "keras_api/checkpoint_pattern.h"
#include "keras_api/keywords.h"

namespace horn::keras {

class Sequential;
using Logs = std::map<std::string, double>;

// Whether a callback watching `monitor` in `mode` ("min", "max" or "auto") wants it larger:
// "auto" means larger for accuracies (a name containing "acc"), as Keras decides. Throws an
// Error naming `callback` for another mode.
bool monitor_improves_upwards(const std::string& callback, const std::string& mode, const std::string& monitor);

class Callback {
 public:
  virtual ~Callback() = default;
  void set_model(Sequential* model) { model_ = model; }
  // Called by fit before anything changes, with the names the epoch logs will have
  // ("loss", "accuracy", "val_loss", ...): throws an Error when the callback cannot work.
  virtual void check_before_training(const std::vector<std::string>& epoch_log_names) const {
    (void)epoch_log_names;
  }
  virtual void on_train_begin(const Logs&) {}
  virtual void on_train_end(const Logs&) {}
  virtual void on_epoch_begin(int, const Logs&) {}
  virtual void on_epoch_end(int, const Logs&) {}
  virtual void on_batch_begin(int64_t, const Logs&) {}
  virtual void on_batch_end(int64_t, const Logs&) {}

 protected:
  Sequential* model_ = nullptr;
};

// What fit returns: per-epoch values of the loss and metrics (and val_ ones).
class History : public Callback {
 public:
  std::vector<int> epoch;
  std::map<std::string, std::vector<double>> history;
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;
  int patience = 0;
  int verbose = 0;
  std::string mode = "auto";  // "min", "max" or "auto" (max for accuracies)
  bool restore_best_weights = false;
};

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  template <KeywordArgument... K>
  explicit EarlyStopping(const K&... kw) : EarlyStopping(with_keywords<EarlyStoppingOptions>(kw...)) {}
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs&) override;
  int stopped_epoch() const { return stopped_epoch_; }

 private:
  EarlyStoppingOptions o_;
  bool maximize_;
  double best_ = 0;
  int wait_ = 0, stopped_epoch_ = 0;
  std::vector<Tensor> best_weights_;
  bool warned_ = false;
};

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  int verbose = 0;
  bool save_best_only = false;
  bool save_weights_only = false;
  std::string mode = "auto";
  int period = 1;
};

// Saves the model after epochs. `filepath` may hold "{epoch}", "{epoch:02d}" and
// "{<log name>}" or "{<log name>:.4f}", e.g. "weights.{epoch:02d}-{val_loss:.2f}.horn"
// (keras_api/checkpoint_pattern.h has the rules); a bad pattern throws here, and a log name
// that training will not produce throws when fit starts.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {});
  template <KeywordArgument... K>
  ModelCheckpoint(std::string filepath, const K&... kw)
      : ModelCheckpoint(std::move(filepath), with_keywords<ModelCheckpointOptions>(kw...)) {}
  void check_before_training(const std::vector<std::string>& epoch_log_names) const override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  CheckpointPattern filepath_;
  ModelCheckpointOptions o_;
  bool maximize_;
  double best_;
  int since_last_ = 0;
};

// Streams epoch results to a CSV file: "epoch,loss,accuracy,..." then one row per epoch.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string filename, std::string separator = ",", bool append = false);
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  std::string filename_, separator_;
  bool append_;
  std::vector<std::string> keys_;
};

// Stops training as soon as a batch's loss is NaN or infinite, printing
// "Batch N: Invalid loss, terminating training" (Keras's TerminateOnNaN). The epoch in
// progress ends there; later epochs do not run.
class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(int64_t batch, const Logs& logs) override;
};

struct LambdaCallbackOptions {
  std::function<void(int, const Logs&)> on_epoch_begin, on_epoch_end;
  std::function<void(int64_t, const Logs&)> on_batch_begin, on_batch_end;
  std::function<void(const Logs&)> on_train_begin, on_train_end;
};

class LambdaCallback : public Callback {
 public:
  explicit LambdaCallback(LambdaCallbackOptions hooks) : h_(std::move(hooks)) {}
  void on_train_begin(const Logs& l) override { if (h_.on_train_begin) h_.on_train_begin(l); }
  void on_train_end(const Logs& l) override { if (h_.on_train_end) h_.on_train_end(l); }
  void on_epoch_begin(int e, const Logs& l) override { if (h_.on_epoch_begin) h_.on_epoch_begin(e, l); }
  void on_epoch_end(int e, const Logs& l) override { if (h_.on_epoch_end) h_.on_epoch_end(e, l); }
  void on_batch_begin(int64_t b, const Logs& l) override { if (h_.on_batch_begin) h_.on_batch_begin(b, l); }
  void on_batch_end(int64_t b, const Logs& l) override { if (h_.on_batch_end) h_.on_batch_end(b, l); }

 private:
  LambdaCallbackOptions h_;
};

// Formats a ModelCheckpoint file path (exposed for tests).
std::string format_checkpoint_path(const std::string& pattern, int epoch_1based, const Logs& logs);

}  // namespace horn::keras
