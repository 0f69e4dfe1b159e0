// The Keras Sequential model, lowered onto a Horn graph.
//
// `compile` builds the training graph once (forward pass, loss, gradients, optimizer
// updates); `fit` feeds shuffled mini-batches to it; `evaluate` and `predict` run the
// inference graph (Dropout off). All state lives in the model's Session.
#pragma once
#include <concepts>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/session.h"
#include "keras_api/callbacks.h"
#include "keras_api/keywords.h"
#include "keras_api/layers.h"
#include "keras_api/losses.h"
#include "keras_api/optimizers.h"

namespace horn::keras {

class ProgressBar;
struct ModelFile;

// An optimizer by name ("adam") or as an object (optimizers::Adam({.learning_rate = 1e-4})).
struct OptimizerSpec {
  OptimizerSpec() = default;
  OptimizerSpec(const char* name) : name(name) {}          // NOLINT: implicit, as in Keras
  OptimizerSpec(std::string name) : name(std::move(name)) {}  // NOLINT
  template <std::derived_from<optimizers::Optimizer> O>
  OptimizerSpec(O optimizer) : object(std::make_shared<O>(std::move(optimizer))) {}  // NOLINT
  OptimizerSpec(std::shared_ptr<optimizers::Optimizer> optimizer) : object(std::move(optimizer)) {}  // NOLINT
  std::string name;
  std::shared_ptr<optimizers::Optimizer> object;
};

struct CompileOptions {
  losses::Loss loss;
  OptimizerSpec optimizer = "rmsprop";  // Keras's default
  std::vector<std::string> metrics;
};

// Data to validate on after each epoch: `validation_data = {x_test, y_test}`.
struct ValidationData : std::optional<std::pair<Tensor, Tensor>> {
  using optional::optional;
  ValidationData(Tensor x, Tensor y) : optional(std::in_place, std::move(x), std::move(y)) {}
};

struct FitOptions {
  int64_t batch_size = 32;
  int epochs = 1;
  int nb_epoch = 0;  // the old Keras spelling of `epochs`; used when set
  int verbose = 1;
  CallbackList callbacks;  // by value, or by shared_ptr to read them after fit
  double validation_split = 0;  // the last fraction of x, y, not shuffled, as Keras
  ValidationData validation_data;
  bool shuffle = true;
  int initial_epoch = 0;
  std::optional<uint64_t> seed;  // shuffling; default: the model's seed
  // Keras's per-sample weights of the training loss, shape [N] (float, finite, >= 0): the
  // loss is mean(weight * per-sample loss) over each batch. Metrics stay unweighted, and so
  // does the validation loss, as Keras's `metrics`.
  Tensor sample_weight;
  // Or a weight per class ({{0, 1.0}, {1, 5.0}}): each sample weighs its class's weight (the
  // argmax of a one-hot y, an integer label, or a single 0/1 column). Every class in y needs
  // one; give sample_weight or class_weight, not both (as Keras 3).
  std::map<int64_t, double> class_weight;
};

struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;  // Keras's default: a progress bar
};

struct PredictOptions {
  int64_t batch_size = 32;
};

struct SequentialOptions {
  std::string name = "sequential";
  uint64_t seed = 1234;  // weight initialisation, dropout masks and shuffling
  int num_threads = 0;   // 0: all cores
  // Stop at the first NaN or infinity any op produces, naming the op, its layer and the
  // step (SessionOptions::check_numerics): for tracing a diverging loss to where it starts.
  bool check_numerics = false;
  // Subnormal floats become 0 in training and inference (SessionOptions::flush_denormals):
  // on, as TensorFlow runs Keras; false for IEEE gradual underflow.
  bool flush_denormals = true;
};

class Sequential {
 public:
  explicit Sequential(SequentialOptions options = {});
  // Sequential({Dense(512, ...), Dropout(0.2), ...}): layers by value or as shared_ptrs.
  explicit Sequential(LayerList layers, SequentialOptions options = {});
  // Keyword arguments (keras_api/keywords.h): Sequential(name = "mlp", seed = 7).
  template <KeywordArgument... K>
  explicit Sequential(const K&... kw) : Sequential(with_keywords<SequentialOptions>(kw...)) {}
  template <KeywordArgument... K>
  explicit Sequential(LayerList layers, const K&... kw)
      : Sequential(std::move(layers), with_keywords<SequentialOptions>(kw...)) {}
  ~Sequential();
  Sequential(Sequential&&) noexcept;
  Sequential& operator=(Sequential&&) noexcept;

  template <std::derived_from<Layer> L>
  void add(L layer) { add(std::shared_ptr<Layer>(std::make_shared<L>(std::move(layer)))); }
  void add(std::shared_ptr<Layer> layer);

  void compile(CompileOptions options);
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {});
  // {loss, metric...}: score[0] is the loss, score[1] the first metric (accuracy).
  std::vector<double> evaluate(const Tensor& x, const Tensor& y, EvaluateOptions options = {});
  Tensor predict(const Tensor& x, PredictOptions options = {});
  // Keras 2's Sequential.predict_classes: int32 class indexes, the argmax of each prediction
  // row [N]; for a single output column (a sigmoid), prediction > 0.5 as [N, 1].
  Tensor predict_classes(const Tensor& x, PredictOptions options = {});
  // The same calls with keyword arguments in any order (keras_api/keywords.h):
  //   model.compile(loss = "categorical_crossentropy", optimizer = "adam", metrics = {"accuracy"});
  //   model.fit(x, y, epochs = 20, batch_size = 128, validation_data = {x_test, y_test});
  template <KeywordArgument... K>
  void compile(const K&... kw) { compile(with_keywords<CompileOptions>(kw...)); }
  template <KeywordArgument... K>
  History fit(const Tensor& x, const Tensor& y, const K&... kw) {
    return fit(x, y, with_keywords<FitOptions>(kw...));
  }
  template <KeywordArgument... K>
  std::vector<double> evaluate(const Tensor& x, const Tensor& y, const K&... kw) {
    return evaluate(x, y, with_keywords<EvaluateOptions>(kw...));
  }
  template <KeywordArgument... K>
  Tensor predict(const Tensor& x, const K&... kw) { return predict(x, with_keywords<PredictOptions>(kw...)); }
  template <KeywordArgument... K>
  Tensor predict_classes(const Tensor& x, const K&... kw) {
    return predict_classes(x, with_keywords<PredictOptions>(kw...));
  }
  std::vector<double> train_on_batch(const Tensor& x, const Tensor& y);
  std::vector<double> test_on_batch(const Tensor& x, const Tensor& y);
  Tensor predict_on_batch(const Tensor& x);

  // Prints (to `out`) and returns Keras's summary table.
  std::string summary(std::ostream& out = std::cout);
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  std::vector<std::string> metrics_names() const;
  // The optimizer's learning rate (Keras: K.get_value / K.set_value(model.optimizer.lr, x)):
  // a graph variable, so a new value applies from the next step, and save() records it.
  // With a schedule (optimizers::schedules), the schedule's rate at the current step; setting
  // it then throws.
  double learning_rate() const;
  void set_learning_rate(double lr);
  // Keras's model.optimizer: the compiled model's optimizer (null before compile).
  const std::shared_ptr<optimizers::Optimizer>& optimizer() const { return optimizer_; }
  int64_t count_params();
  int64_t count_trainable_params();

  // Every layer's weights, in order (Keras's get_weights); copies.
  std::vector<Tensor> get_weights();
  void set_weights(const std::vector<Tensor>& weights);

  // Architecture, weights, compile settings and optimizer state, in one file: a .horn file,
  // a Keras 2 HDF5 file for ".h5", or a TensorFlow.js Layers model for a path ending in "/" or
  // ".json" (keras_api/model_formats.h).
  void save(const std::string& path);
  // What save writes, before it is encoded in a format.
  ModelFile to_model_file();
  void save_weights(const std::string& path);
  void load_weights(const std::string& path);

  // Each layer's output and weight shapes, as build() will create them, computed without a
  // graph or any allocation; throws what build() would for layers that do not fit together.
  std::vector<LayerShapes> layer_shapes() const;
  // Creates the graph and the variables (done by compile/fit/predict when needed).
  void build();
  bool built() const { return graph_ != nullptr; }
  bool compiled() const { return compiled_; }
  Graph& graph();
  Session& session();
  // After compile: the training step as graph nodes, for running it on a graph level (as
  // Keras's model.total_loss and model.updates): placeholders for x and y, the mean loss
  // over a batch, and the update ops one step runs as targets (the optimizer's, then the
  // layers' own, such as BatchNormalization's moving averages).
  Output input() const { return x_; }
  // The inference graph's prediction (Keras's model.output); valid after add().
  Output output() const { return pred_; }
  Output target() const { return y_; }
  Output total_loss() const { return loss_; }
  // The per-sample weights total_loss takes, shape [batch] (Keras 2's model.sample_weights):
  // feed ones for an unweighted step.
  Output sample_weights() const { return sample_weight_; }
  const std::vector<Node*>& training_updates() const { return train_targets_; }

  bool stop_training = false;  // set by callbacks (EarlyStopping)

 private:
  friend Sequential rebuild_model(const ModelFile& file, const std::string& path);
  struct Batch;
  Tensor prepare_x(const Tensor& x, const char* where) const;
  Tensor prepare_y(const Tensor& y, const char* where) const;
  void check_pair(const Tensor& x, const Tensor& y, const char* where) const;
  std::vector<double> run_batches(const Tensor& x, const Tensor& y, int64_t batch_size, bool train,
                                  const std::vector<int64_t>* order, ProgressBar* bar,
                                  const std::vector<std::shared_ptr<Callback>>* callbacks,
                                  const Tensor* sample_weight = nullptr);
  // fit's sample_weight or class_weight as one float32 weight per sample of y; undefined
  // when neither is given.
  Tensor training_weights(const FitOptions& options, const Tensor& y, int64_t n) const;
  std::vector<Output> all_weights() const;
  SequentialOptions options_;
  std::vector<std::shared_ptr<Layer>> layers_;
  std::unique_ptr<Graph> graph_;
  std::unique_ptr<Session> session_;
  Output x_, y_, pred_, pred_train_, sample_weight_;
  // Training-mode (Dropout on) and inference-mode loss and metric means over a batch.
  Output loss_, loss_eval_;
  std::vector<Output> metric_values_, metric_eval_values_;
  std::vector<Node*> train_targets_;
  bool compiled_ = false;
  CompileOptions compile_options_;
  std::shared_ptr<optimizers::Optimizer> optimizer_;
};

// Recreates a model saved with Sequential::save, or a Keras model saved by TensorFlow.js (the
// format is found from the file's content): architecture, weights, and (if it was compiled)
// loss, metrics, optimizer and its state, ready to predict or resume training.
Sequential load_model(const std::string& path);
// The same from a file already read (keras_api/model_file.h); every error is an Error naming
// `path`.
Sequential model_from_file(const ModelFile& file, const std::string& path);

}  // namespace horn::keras
