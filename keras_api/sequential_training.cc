// Sequential: the training loop (fit), evaluate and predict, over mini-batches.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>

#include "core/random.h"
#include "keras_api/progress_bar.h"
#include "keras_api/sequential.h"
#include "ops/eager.h"

namespace horn::keras {
namespace {

std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int epoch) {
  if (shuffle) return random::permutation(n, seed, 0x5eed0000ull + epoch);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  return order;
}

// Random ops (Dropout's masks) draw from the session's run counter, which every run
// advances. Inference runs draw nothing (Dropout is off in the inference graph), so they put
// the counter back: the training stream is the same whether or not validation, evaluate or
// predict ran in between (Keras keeps them apart too).
class KeepTrainingRandomStream {
 public:
  explicit KeepTrainingRandomStream(Session& session) : session_(session), counter_(session.run_counter()) {}
  ~KeepTrainingRandomStream() { session_.set_run_counter(counter_); }
  KeepTrainingRandomStream(const KeepTrainingRandomStream&) = delete;
  KeepTrainingRandomStream& operator=(const KeepTrainingRandomStream&) = delete;

 private:
  Session& session_;
  const uint64_t counter_;
};

}  // namespace

std::vector<double> Sequential::run_batches(const Tensor& x, const Tensor& y, int64_t batch_size,
                                            bool train, const std::vector<int64_t>* order, ProgressBar* bar,
                                            const std::vector<std::shared_ptr<Callback>>* callbacks,
                                            const Tensor* sample_weight) {
  std::vector<Output> fetches{train ? loss_ : loss_eval_};
  for (const Output& m : train ? metric_values_ : metric_eval_values_) fetches.push_back(m);
  const std::vector<Node*> no_targets;
  const std::vector<Node*>& targets = train ? train_targets_ : no_targets;
  const std::vector<std::string> names = metrics_names();
  std::vector<double> sums(fetches.size(), 0);
  std::optional<KeepTrainingRandomStream> keep_stream;
  if (!train) keep_stream.emplace(*session_);
  const int64_t n = x.dim(0);
  // Unweighted training feeds ones: made once, sliced for a short last batch.
  const Tensor ones = train && !sample_weight ? Tensor::fill(DType::kFloat32, {std::min(n, batch_size)}, 1.0) : Tensor();
  int64_t seen = 0;
  for (int64_t start = 0, batch = 0; start < n; start += batch_size, ++batch) {
    if (train && callbacks && stop_training) break;  // TerminateOnNaN stops mid-epoch, as in Keras
    const int64_t end = std::min(n, start + batch_size);
    Tensor xb, yb, wb;
    if (order) {
      std::span<const int64_t> rows(order->data() + start, end - start);
      xb = x.gather_rows(rows);
      yb = y.gather_rows(rows);
      if (sample_weight) wb = sample_weight->gather_rows(rows);
    } else {
      xb = x.slice_rows(start, end);
      yb = y.slice_rows(start, end);
      if (sample_weight) wb = sample_weight->slice_rows(start, end);
    }
    if (train && !sample_weight) wb = end - start == ones.dim(0) ? ones : ones.slice_rows(0, end - start);
    if (callbacks)
      for (const auto& c : *callbacks)
        c->on_batch_begin(batch, {{"batch", double(batch)}, {"size", double(end - start)}});
    Session::Feeds feeds{{x_, xb}, {y_, yb}};
    if (train) feeds.emplace_back(sample_weight_, wb);
    const std::vector<Tensor> out = session_->run(feeds, fetches, targets);
    Logs batch_logs{{"batch", double(batch)}, {"size", double(end - start)}};
    for (size_t i = 0; i < out.size(); ++i) {
      const double v = out[i].value_as_double(0);
      sums[i] += v * (end - start);
      batch_logs[names[i]] = v;
    }
    seen = end;
    if (bar) {
      std::vector<std::pair<std::string, double>> running;
      for (size_t i = 0; i < sums.size(); ++i) running.emplace_back(names[i], sums[i] / end);
      bar->update(end, running);
    }
    if (callbacks)
      for (const auto& c : *callbacks) c->on_batch_end(batch, batch_logs);
  }
  if (seen > 0)
    for (double& s : sums) s /= static_cast<double>(seen);
  return sums;
}

History Sequential::fit(const Tensor& x, const Tensor& y, FitOptions options) {
  if (!compiled_)
    fail("fit: the model must be compiled before fit; call compile({.loss = ..., .optimizer = ...})");
  if (options.batch_size <= 0) fail("fit: batch_size must be positive, got ", options.batch_size);
  if (options.nb_epoch > 0) {
    if (options.epochs != 1 && options.epochs != options.nb_epoch)
      fail("fit: epochs (", options.epochs, ") and nb_epoch (", options.nb_epoch, ") disagree; give one");
    options.epochs = options.nb_epoch;
  }
  if (options.epochs < 0) fail("fit: epochs must be >= 0, got ", options.epochs);
  if (options.verbose < 0 || options.verbose > 2)
    fail("fit: verbose must be 0, 1 or 2, got ", options.verbose);
  if (!(options.validation_split >= 0 && options.validation_split < 1))
    fail("fit: validation_split must be in [0, 1), got ", options.validation_split);
  Tensor xs = prepare_x(x, "fit"), ys = prepare_y(y, "fit");
  check_pair(xs, ys, "fit");
  Tensor weights = training_weights(options, ys, xs.dim(0));
  Tensor xv, yv;
  if (options.validation_data) {
    xv = prepare_x(options.validation_data->first, "fit (validation_data)");
    yv = prepare_y(options.validation_data->second, "fit (validation_data)");
    check_pair(xv, yv, "fit (validation_data)");
  } else if (options.validation_split > 0) {
    const int64_t split = static_cast<int64_t>(xs.dim(0) * (1 - options.validation_split));
    if (split == 0 || split == xs.dim(0))
      fail("fit: validation_split ", options.validation_split, " of ", xs.dim(0),
           " samples leaves a set empty");
    xv = xs.slice_rows(split, xs.dim(0));
    yv = ys.slice_rows(split, ys.dim(0));
    xs = xs.slice_rows(0, split);
    ys = ys.slice_rows(0, split);
  }
  // The validation split's weights are not used: Keras's loss on validation data given
  // without weights is unweighted.
  if (weights.defined() && weights.dim(0) != xs.dim(0)) weights = weights.slice_rows(0, xs.dim(0));

  const std::vector<std::string> names = metrics_names();
  std::vector<std::string> epoch_log_names = names;
  if (xv.defined())
    for (const auto& name : names) epoch_log_names.push_back("val_" + name);
  for (size_t i = 0; i < options.callbacks.size(); ++i) {
    if (!options.callbacks[i]) fail("fit: callback ", i, " is null");
    options.callbacks[i]->check_before_training(epoch_log_names);
  }

  auto history = std::make_shared<History>();
  std::vector<std::shared_ptr<Callback>> callbacks{history};
  callbacks.insert(callbacks.end(), options.callbacks.begin(), options.callbacks.end());
  for (const auto& c : callbacks) c->set_model(this);
  const uint64_t seed = options.seed.value_or(options_.seed);
  const bool terminal = stdout_is_terminal();

  stop_training = false;
  if (options.verbose && xv.defined())
    std::cout << "Train on " << xs.dim(0) << " samples, validate on " << xv.dim(0) << " samples"
              << std::endl;
  for (const auto& c : callbacks) c->on_train_begin({});
  for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
    for (const auto& c : callbacks) c->on_epoch_begin(epoch, {});
    if (options.verbose) std::cout << "Epoch " << epoch + 1 << "/" << options.epochs << std::endl;
    ProgressBar bar(xs.dim(0), options.verbose, std::cout, terminal);
    const std::vector<int64_t> order = epoch_order(xs.dim(0), options.shuffle, seed, epoch);
    const std::vector<double> train =
        run_batches(xs, ys, options.batch_size, true, &order, &bar, &callbacks,
                    weights.defined() ? &weights : nullptr);
    Logs logs;
    std::vector<std::pair<std::string, double>> shown;
    for (size_t i = 0; i < names.size(); ++i) {
      logs[names[i]] = train[i];
      shown.emplace_back(names[i], train[i]);
    }
    if (xv.defined()) {
      const std::vector<double> val =
          run_batches(xv, yv, options.batch_size, false, nullptr, nullptr, nullptr);
      for (size_t i = 0; i < names.size(); ++i) {
        logs["val_" + names[i]] = val[i];
        shown.emplace_back("val_" + names[i], val[i]);
      }
    }
    bar.finish(shown);
    for (const auto& c : callbacks) c->on_epoch_end(epoch, logs);
  }
  for (const auto& c : callbacks) c->on_train_end({});
  return *history;
}

Tensor Sequential::training_weights(const FitOptions& options, const Tensor& y, int64_t n) const {
  const bool by_sample = options.sample_weight.defined(), by_class = !options.class_weight.empty();
  if (by_sample && by_class) fail("fit: give sample_weight or class_weight, not both");
  if (by_sample) {
    const Tensor& w = options.sample_weight;
    if (!(w.rank() == 1 || (w.rank() == 2 && w.dim(1) == 1)) || w.dim(0) != n || !is_any_float(w.dtype()))
      fail("fit: sample_weight must be a float tensor of shape [", n, "] (one weight per sample), got ",
           dtype_name(w.dtype()), w.shape());
    Tensor out = w.cast(DType::kFloat32).reshaped({n});
    for (int64_t i = 0; i < n; ++i)
      if (!(out.data<float>()[i] >= 0) || !std::isfinite(out.data<float>()[i]))
        fail("fit: sample_weight[", i, "] is ", out.data<float>()[i], "; weights must be finite and >= 0");
    return out;
  }
  if (!by_class) return {};
  for (const auto& [cls, weight] : options.class_weight)
    if (!(weight >= 0) || !std::isfinite(weight))
      fail("fit: class_weight of class ", cls, " is ", weight, "; weights must be finite and >= 0");
  // y as prepare_y gives it: labels [N] for a sparse loss, else [N, ..., classes].
  const int64_t per_sample = y.size() / std::max<int64_t>(n, 1);
  const float* p = y.data<float>();
  Tensor out(DType::kFloat32, Shape{n});
  for (int64_t i = 0; i < n; ++i) {
    const float* row = p + i * per_sample;
    int64_t cls = 0;
    if (y.rank() == 1) cls = static_cast<int64_t>(row[0]);                                  // a label
    else if (per_sample == 1) cls = row[0] > 0.5f ? 1 : 0;                                   // one 0/1 column
    else if (y.rank() == 2) cls = std::max_element(row, row + per_sample) - row;             // one-hot
    else fail("fit: class_weight needs one class per sample; y has shape ", y.shape());
    auto it = options.class_weight.find(cls);
    if (it == options.class_weight.end())
      fail("fit: class_weight has no weight for class ", cls, " (sample ", i, "); give one for every class in y");
    out.data<float>()[i] = static_cast<float>(it->second);
  }
  return out;
}

std::vector<double> Sequential::evaluate(const Tensor& x, const Tensor& y, EvaluateOptions options) {
  if (!compiled_) fail("evaluate: the model must be compiled first; call compile(...)");
  if (options.batch_size <= 0) fail("evaluate: batch_size must be positive, got ", options.batch_size);
  Tensor xs = prepare_x(x, "evaluate"), ys = prepare_y(y, "evaluate");
  check_pair(xs, ys, "evaluate");
  ProgressBar bar(xs.dim(0), options.verbose ? 1 : 0, std::cout, stdout_is_terminal());
  std::vector<double> score = run_batches(xs, ys, options.batch_size, false, nullptr, &bar, nullptr);
  std::vector<std::pair<std::string, double>> shown;
  for (size_t i = 0; i < score.size(); ++i) shown.emplace_back(metrics_names()[i], score[i]);
  bar.finish(shown);
  return score;
}

Tensor Sequential::predict(const Tensor& x, PredictOptions options) {
  if (options.batch_size <= 0) fail("predict: batch_size must be positive, got ", options.batch_size);
  build();
  Tensor xs = prepare_x(x, "predict");
  const int64_t n = xs.dim(0);
  KeepTrainingRandomStream keep_stream(*session_);
  std::vector<int64_t> dims{n};
  dims.insert(dims.end(), pred_.shape().dims().begin() + 1, pred_.shape().dims().end());
  Tensor out(DType::kFloat32, Shape(dims));
  const size_t row_bytes = out.nbytes() / n;
  for (int64_t start = 0; start < n; start += options.batch_size) {
    const int64_t end = std::min(n, start + options.batch_size);
    Tensor p = session_->run({{x_, xs.slice_rows(start, end)}}, pred_);
    std::memcpy(static_cast<char*>(out.raw_data()) + start * row_bytes, p.raw_data(), p.nbytes());
  }
  return out;
}

Tensor Sequential::predict_classes(const Tensor& x, PredictOptions options) {
  const Tensor proba = predict(x, options);
  if (proba.rank() >= 2 && proba.dim(proba.rank() - 1) == 1) return (proba > 0.5).cast(DType::kInt32);
  return tensor::argmax(proba, -1);
}

std::vector<double> Sequential::train_on_batch(const Tensor& x, const Tensor& y) {
  if (!compiled_) fail("train_on_batch: the model must be compiled first");
  Tensor xs = prepare_x(x, "train_on_batch"), ys = prepare_y(y, "train_on_batch");
  check_pair(xs, ys, "train_on_batch");
  return run_batches(xs, ys, xs.dim(0), true, nullptr, nullptr, nullptr);
}

std::vector<double> Sequential::test_on_batch(const Tensor& x, const Tensor& y) {
  if (!compiled_) fail("test_on_batch: the model must be compiled first");
  Tensor xs = prepare_x(x, "test_on_batch"), ys = prepare_y(y, "test_on_batch");
  check_pair(xs, ys, "test_on_batch");
  return run_batches(xs, ys, xs.dim(0), false, nullptr, nullptr, nullptr);
}

Tensor Sequential::predict_on_batch(const Tensor& x) {
  build();
  KeepTrainingRandomStream keep_stream(*session_);
  return session_->run({{x_, prepare_x(x, "predict_on_batch")}}, pred_);
}

}  // namespace horn::keras
