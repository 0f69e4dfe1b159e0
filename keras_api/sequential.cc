#include "keras_api/sequential.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "core/attr.h"
#include "core/random.h"
#include "keras_api/metrics.h"
#include "keras_api/model_file.h"
#include "keras_api/progress_bar.h"
#include "ops/ops.h"

namespace horn::keras {
namespace {

constexpr DType kFloat = DType::kFloat32;

std::string snake_case(const std::string& type) {
  std::string s;
  for (char c : type) {
    if (std::isupper(static_cast<unsigned char>(c)) && !s.empty()) s += '_';
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s == "input_layer" ? "input" : s;
}

std::string keras_shape(const Shape& s) {  // "(None, 500)"
  std::string out = "(None";
  for (int64_t d : s.dims()) out += ", " + std::to_string(d);
  return out + ")";
}

std::string with_commas(int64_t n) {  // 648010 -> "648,010"
  const std::string digits = std::to_string(n);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int epoch) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (!shuffle) return order;
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates with a seeded, counter-based stream
    const int64_t j = static_cast<int64_t>(random::bits(seed, 0x5eed0000ull + epoch, i) % (i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace

Sequential::Sequential(SequentialOptions options) : options_(std::move(options)) {}

Sequential::Sequential(std::vector<std::shared_ptr<Layer>> layers, SequentialOptions options)
    : options_(std::move(options)) {
  for (auto& l : layers) add(std::move(l));
}

Sequential::~Sequential() = default;
Sequential::Sequential(Sequential&&) noexcept = default;
Sequential& Sequential::operator=(Sequential&&) noexcept = default;

void Sequential::add(std::shared_ptr<Layer> layer) {
  if (!layer) fail("Sequential::add: the layer is null");
  if (built()) fail("Sequential::add: the model is already built; add every layer before compile/fit/predict");
  if (!layers_.empty() && layer->type() == "InputLayer") fail("Sequential::add: an Input must be the first layer");
  if (layer->name().empty()) {
    const std::string base = snake_case(layer->type());
    int count = 1;
    for (const auto& l : layers_) count += l->type() == layer->type();
    layer->set_name(base + "_" + std::to_string(count));
  }
  for (const auto& l : layers_)
    if (l->name() == layer->name()) fail("Sequential::add: a layer named '", layer->name(), "' is already in the model");
  layers_.push_back(std::move(layer));
}

void Sequential::build() {
  if (built()) return;
  if (layers_.empty()) fail("Sequential: the model has no layers; add some with model.add(...)");
  const auto& declared = layers_[0]->declared_input_shape();
  if (!declared)
    fail("Sequential: the first layer ('", layers_[0]->name(), "') must state its input size ",
         "(input_dim or input_shape); only later layers infer theirs");
  auto graph = std::make_unique<Graph>();
  std::vector<int64_t> dims{-1};
  dims.insert(dims.end(), declared->dims().begin(), declared->dims().end());
  Output x = ops::Placeholder(*graph, kFloat, Shape(dims), "input");
  Shape shape = *declared;
  bool has_dropout = false;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& layer = layers_[i];
    if (i > 0 && layer->declared_input_shape() && *layer->declared_input_shape() != shape)
      fail("Sequential: layer '", layer->name(), "' declares input shape ", *layer->declared_input_shape(),
           " but the previous layer outputs ", shape);
    shape = layer->build(*graph, shape, random::mix64(options_.seed * 1000003 + i));
    has_dropout |= layer->type() == "Dropout";
  }
  auto forward = [&](bool training) {
    Output h = x;
    for (const auto& layer : layers_) h = layer->call(h, training);
    return h;
  };
  pred_ = forward(false);
  pred_train_ = has_dropout ? forward(true) : pred_;
  x_ = x;
  graph_ = std::move(graph);
  session_ = std::make_unique<Session>(*graph_, SessionOptions{options_.num_threads});
  session_->initialize_variables();
}

Graph& Sequential::graph() {
  build();
  return *graph_;
}

Session& Sequential::session() {
  build();
  return *session_;
}

std::vector<Output> Sequential::all_weights() const {
  std::vector<Output> w;
  for (const auto& l : layers_)
    for (const Output& v : l->weights()) w.push_back(v);
  return w;
}

void Sequential::compile(CompileOptions options) {
  if (options.loss.empty()) fail("compile: a loss is needed, e.g. {.loss = \"categorical_crossentropy\"}");
  for (const auto& m : options.metrics) metrics::validate(m);
  std::shared_ptr<optimizers::Optimizer> optimizer =
      options.optimizer.object ? options.optimizer.object : optimizers::get(options.optimizer.name);
  build();
  Graph& g = *graph_;
  const bool sparse = losses::is_sparse(options.loss.name);
  std::vector<int64_t> ydims{-1};
  if (!sparse) ydims.insert(ydims.end(), pred_.shape().dims().begin() + 1, pred_.shape().dims().end());
  Output y = ops::Placeholder(g, kFloat, Shape(ydims), "target");

  auto heads = [&](Output pred, Output* loss, std::vector<Output>* values) {
    Graph::NameScope scope(g, "loss");
    *loss = ops::Mean(losses::compute(options.loss, y, pred));
    values->clear();
    for (const auto& m : options.metrics) values->push_back(ops::Mean(metrics::compute(m, options.loss.name, y, pred)));
  };
  heads(pred_train_, &loss_, &metric_values_);
  if (pred_train_ == pred_) {
    loss_eval_ = loss_;
    metric_eval_values_ = metric_values_;
  } else {
    heads(pred_, &loss_eval_, &metric_eval_values_);
  }
  train_targets_ = optimizer->get_updates(loss_, all_weights());
  for (const Output& v : optimizer->variables())
    session_->set_variable_value(v.node, v.node->attrs.get<Tensor>("initial_value"));
  y_ = y;
  optimizer_ = std::move(optimizer);
  compile_options_ = std::move(options);
  compiled_ = true;
}

std::vector<std::string> Sequential::metrics_names() const {
  std::vector<std::string> names{"loss"};
  for (const auto& m : compile_options_.metrics) names.push_back(m);
  return names;
}

// ---- input validation: before any work, with the model unchanged ----

Tensor Sequential::prepare_x(const Tensor& x, const char* where) const {
  if (!x.defined()) fail(where, ": x is an empty Tensor");
  const Shape& expected = x_.shape();
  bool ok = x.rank() == expected.rank();
  for (int d = 1; ok && d < expected.rank(); ++d) ok = x.dim(d) == expected.dim(d);
  if (!ok)
    fail(where, ": x has shape ", x.shape(), " but the model expects ", expected, " (input of layer '",
         layers_[0]->name(), "')");
  if (x.dim(0) == 0) fail(where, ": x has no samples (shape ", x.shape(), ")");
  Tensor xf = x.dtype() == kFloat ? x : x.cast(kFloat);
  const float* p = xf.data<float>();
  for (int64_t i = 0; i < xf.size(); ++i)
    if (!std::isfinite(p[i])) {
      const int64_t row = i / (xf.size() / xf.dim(0));
      fail(where, ": x contains ", std::isnan(p[i]) ? "NaN" : "an infinity", " (sample ", row, ")");
    }
  return xf;
}

Tensor Sequential::prepare_y(const Tensor& y, const char* where) const {
  if (!y.defined()) fail(where, ": y is an empty Tensor");
  const std::string& loss = compile_options_.loss.name;
  const Shape out = pred_.shape();
  const int64_t classes = out.dim(-1);
  Tensor yf = y.dtype() == kFloat ? y : y.cast(kFloat);
  const float* p = yf.data<float>();
  for (int64_t i = 0; i < yf.size(); ++i)
    if (!std::isfinite(p[i])) fail(where, ": y contains NaN or an infinity (element ", i, ")");
  if (losses::is_sparse(loss)) {
    if (!(y.rank() == 1 || (y.rank() == 2 && y.dim(1) == 1)))
      fail(where, ": ", loss, " takes integer labels of shape [N] or [N,1], got ", y.shape());
    for (int64_t i = 0; i < yf.size(); ++i)
      if (p[i] != std::floor(p[i]) || p[i] < 0 || p[i] >= classes)
        fail(where, ": label ", p[i], " of sample ", i, " is out of range: the model has ", classes, " classes (0..",
             classes - 1, ")");
    return yf.reshaped({yf.size()});
  }
  bool ok = y.rank() == out.rank();
  for (int d = 1; ok && d < out.rank(); ++d) ok = y.dim(d) == out.dim(d);
  if (!ok) {
    std::string hint;
    if (loss == "categorical_crossentropy" && y.rank() == 1)
      hint = str_cat("; categorical_crossentropy needs one-hot rows: use to_categorical(y, ", classes,
                     ") or the loss sparse_categorical_crossentropy");
    fail(where, ": y has shape ", y.shape(), " but the model outputs ", out, hint);
  }
  if (loss == "categorical_crossentropy") {
    for (int64_t r = 0; r < yf.dim(0); ++r) {
      double sum = 0;
      bool in_range = true;
      for (int64_t c = 0; c < classes; ++c) {
        const float v = p[r * classes + c];
        sum += v;
        in_range &= v >= 0 && v <= 1;
      }
      if (!in_range || std::abs(sum - 1) > 1e-3)
        fail(where, ": row ", r, " of y is not one-hot (nor a probability distribution: its values sum to ", sum,
             "); categorical_crossentropy needs one-hot labels, e.g. to_categorical(labels, ", classes, ")");
    }
  }
  return yf;
}

void Sequential::check_pair(const Tensor& x, const Tensor& y, const char* where) const {
  if (x.dim(0) != y.dim(0))
    fail(where, ": x has ", x.dim(0), " samples but y has ", y.dim(0), " (shapes ", x.shape(), " and ", y.shape(), ")");
}

// ---- running batches ----

std::vector<double> Sequential::run_batches(const Tensor& x, const Tensor& y, int64_t batch_size, bool train,
                                            const std::vector<int64_t>* order, ProgressBar* bar,
                                            const std::vector<std::shared_ptr<Callback>>* callbacks) {
  std::vector<Output> fetches{train ? loss_ : loss_eval_};
  for (const Output& m : train ? metric_values_ : metric_eval_values_) fetches.push_back(m);
  const std::vector<Node*> no_targets;
  const std::vector<Node*>& targets = train ? train_targets_ : no_targets;
  const std::vector<std::string> names = metrics_names();
  std::vector<double> sums(fetches.size(), 0);
  const int64_t n = x.dim(0);
  for (int64_t start = 0, batch = 0; start < n; start += batch_size, ++batch) {
    const int64_t end = std::min(n, start + batch_size);
    Tensor xb, yb;
    if (order) {
      std::span<const int64_t> rows(order->data() + start, end - start);
      xb = x.gather_rows(rows);
      yb = y.gather_rows(rows);
    } else {
      xb = x.slice_rows(start, end);
      yb = y.slice_rows(start, end);
    }
    if (callbacks)
      for (const auto& c : *callbacks) c->on_batch_begin(batch, {{"batch", double(batch)}, {"size", double(end - start)}});
    const std::vector<Tensor> out = session_->run({{x_, xb}, {y_, yb}}, fetches, targets);
    Logs batch_logs{{"batch", double(batch)}, {"size", double(end - start)}};
    for (size_t i = 0; i < out.size(); ++i) {
      const double v = out[i].value_as_double(0);
      sums[i] += v * (end - start);
      batch_logs[names[i]] = v;
    }
    if (bar) {
      std::vector<std::pair<std::string, double>> running;
      for (size_t i = 0; i < sums.size(); ++i) running.emplace_back(names[i], sums[i] / end);
      bar->update(end, running);
    }
    if (callbacks)
      for (const auto& c : *callbacks) c->on_batch_end(batch, batch_logs);
  }
  for (double& s : sums) s /= n;
  return sums;
}

History Sequential::fit(const Tensor& x, const Tensor& y, FitOptions options) {
  if (!compiled_) fail("fit: the model must be compiled before fit; call compile({.loss = ..., .optimizer = ...})");
  if (options.batch_size <= 0) fail("fit: batch_size must be positive, got ", options.batch_size);
  if (options.nb_epoch > 0) {
    if (options.epochs != 1 && options.epochs != options.nb_epoch)
      fail("fit: epochs (", options.epochs, ") and nb_epoch (", options.nb_epoch, ") disagree; give one");
    options.epochs = options.nb_epoch;
  }
  if (options.epochs < 0) fail("fit: epochs must be >= 0, got ", options.epochs);
  if (options.verbose < 0 || options.verbose > 2) fail("fit: verbose must be 0, 1 or 2, got ", options.verbose);
  if (!(options.validation_split >= 0 && options.validation_split < 1))
    fail("fit: validation_split must be in [0, 1), got ", options.validation_split);
  Tensor xs = prepare_x(x, "fit"), ys = prepare_y(y, "fit");
  check_pair(xs, ys, "fit");
  Tensor xv, yv;
  if (options.validation_data) {
    xv = prepare_x(options.validation_data->first, "fit (validation_data)");
    yv = prepare_y(options.validation_data->second, "fit (validation_data)");
    check_pair(xv, yv, "fit (validation_data)");
  } else if (options.validation_split > 0) {
    const int64_t split = static_cast<int64_t>(xs.dim(0) * (1 - options.validation_split));
    if (split == 0 || split == xs.dim(0))
      fail("fit: validation_split ", options.validation_split, " of ", xs.dim(0), " samples leaves a set empty");
    xv = xs.slice_rows(split, xs.dim(0));
    yv = ys.slice_rows(split, ys.dim(0));
    xs = xs.slice_rows(0, split);
    ys = ys.slice_rows(0, split);
  }

  auto history = std::make_shared<History>();
  std::vector<std::shared_ptr<Callback>> callbacks{history};
  callbacks.insert(callbacks.end(), options.callbacks.begin(), options.callbacks.end());
  for (const auto& c : callbacks) c->set_model(this);
  const uint64_t seed = options.seed.value_or(options_.seed);
  const bool terminal = stdout_is_terminal();
  const std::vector<std::string> names = metrics_names();

  stop_training = false;
  if (options.verbose && xv.defined())
    std::cout << "Train on " << xs.dim(0) << " samples, validate on " << xv.dim(0) << " samples" << std::endl;
  for (const auto& c : callbacks) c->on_train_begin({});
  for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
    for (const auto& c : callbacks) c->on_epoch_begin(epoch, {});
    if (options.verbose) std::cout << "Epoch " << epoch + 1 << "/" << options.epochs << std::endl;
    ProgressBar bar(xs.dim(0), options.verbose, std::cout, terminal);
    const std::vector<int64_t> order = epoch_order(xs.dim(0), options.shuffle, seed, epoch);
    const std::vector<double> train = run_batches(xs, ys, options.batch_size, true, &order, &bar, &callbacks);
    Logs logs;
    std::vector<std::pair<std::string, double>> shown;
    for (size_t i = 0; i < names.size(); ++i) {
      logs[names[i]] = train[i];
      shown.emplace_back(names[i], train[i]);
    }
    if (xv.defined()) {
      const std::vector<double> val = run_batches(xv, yv, options.batch_size, false, nullptr, nullptr, nullptr);
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
  std::vector<int64_t> dims{n};
  dims.insert(dims.end(), pred_.shape().dims().begin() + 1, pred_.shape().dims().end());
  Tensor out(kFloat, Shape(dims));
  const size_t row_bytes = out.nbytes() / n;
  for (int64_t start = 0; start < n; start += options.batch_size) {
    const int64_t end = std::min(n, start + options.batch_size);
    Tensor p = session_->run({{x_, xs.slice_rows(start, end)}}, pred_);
    std::memcpy(static_cast<char*>(out.raw_data()) + start * row_bytes, p.raw_data(), p.nbytes());
  }
  return out;
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
  return session_->run({{x_, prepare_x(x, "predict_on_batch")}}, pred_);
}

// ---- introspection ----

int64_t Sequential::count_params() {
  build();
  int64_t n = 0;
  for (const auto& l : layers_) n += l->count_params();
  return n;
}

std::string Sequential::summary(std::ostream& out) {
  build();
  std::ostringstream s;
  const std::string thin(65, '_'), thick(65, '=');
  s << "Model: \"" << options_.name << "\"\n" << thin << "\n";
  s << std::left << std::setw(29) << "Layer (type)" << std::setw(26) << "Output Shape" << "Param #\n" << thick << "\n";
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& l = layers_[i];
    s << std::setw(29) << (l->name() + " (" + l->type() + ")") << std::setw(26) << keras_shape(l->output_shape())
      << l->count_params() << "\n"
      << (i + 1 < layers_.size() ? thin : thick) << "\n";
  }
  const int64_t total = count_params();
  s << "Total params: " << with_commas(total) << "\nTrainable params: " << with_commas(total)
    << "\nNon-trainable params: 0\n" << thin << "\n";
  out << s.str();
  return s.str();
}

std::vector<Tensor> Sequential::get_weights() {
  build();
  std::vector<Tensor> out;
  for (const Output& w : all_weights()) out.push_back(session_->variable_value(w.node));
  return out;
}

void Sequential::set_weights(const std::vector<Tensor>& weights) {
  build();
  const std::vector<Output> vars = all_weights();
  if (weights.size() != vars.size())
    fail("set_weights: the model has ", vars.size(), " weight tensors, got ", weights.size());
  for (size_t i = 0; i < vars.size(); ++i)
    if (weights[i].shape() != vars[i].shape() || weights[i].dtype() != vars[i].dtype())
      fail("set_weights: weight ", i, " ('", vars[i].name(), "') is ", dtype_name(vars[i].dtype()), vars[i].shape(),
           ", got ", dtype_name(weights[i].dtype()), weights[i].shape());
  for (size_t i = 0; i < vars.size(); ++i) session_->set_variable_value(vars[i].node, weights[i]);
}

// ---- save and load ----

void Sequential::save(const std::string& path) {
  build();
  ModelFile file;
  file.settings = {{"kind", "model"}, {"name", options_.name}, {"seed", std::to_string(options_.seed)},
                   {"run_counter", std::to_string(session_->run_counter())}};
  for (const auto& l : layers_) file.layers.push_back(l->config());
  for (const Output& w : all_weights()) file.tensors.emplace_back(w.node->name, session_->variable_value(w.node));
  if (compiled_) {
    if (compile_options_.loss.fn)
      fail("save: the model uses the custom loss '", compile_options_.loss.name, "', which cannot be saved; ",
           "use save_weights instead");
    std::string metrics;
    for (const auto& m : compile_options_.metrics) metrics += (metrics.empty() ? "" : ",") + m;
    file.settings["loss"] = compile_options_.loss.name;
    file.settings["metrics"] = metrics;
    file.settings["optimizer"] = optimizer_->name();
    for (const auto& [k, v] : optimizer_->config())
      file.settings["optimizer." + k] = exact_double_string(v);  // reloads bitwise equal
    for (const Output& v : optimizer_->variables())
      file.tensors.emplace_back(v.node->name, session_->variable_value(v.node));
  }
  write_model_file(path, file);
}

void Sequential::save_weights(const std::string& path) {
  build();
  ModelFile file;
  file.settings = {{"kind", "weights"}};
  for (const Output& w : all_weights()) file.tensors.emplace_back(w.node->name, session_->variable_value(w.node));
  write_model_file(path, file);
}

void Sequential::load_weights(const std::string& path) {
  ModelFile file = read_model_file(path);
  build();
  const std::vector<Output> vars = all_weights();
  // A weights file holds exactly the layers' weights, in order; a model file holds them
  // first, by name, followed by the optimizer's state.
  const bool weights_only = file.settings.count("kind") && file.settings.at("kind") == "weights";
  std::vector<Tensor> weights;
  for (const auto& [name, t] : file.tensors)
    if (weights.size() < vars.size() && (weights_only || name == vars[weights.size()].node->name)) weights.push_back(t);
  if (weights.size() != vars.size() || (weights_only && file.tensors.size() != vars.size()))
    fail("load_weights: '", path, "' holds ", weights_only ? file.tensors.size() : weights.size(),
         " weight tensors; this model has ", vars.size());
  set_weights(weights);
}

Sequential load_model(const std::string& path) {
  ModelFile file = read_model_file(path);
  auto setting = [&](const std::string& key) -> const std::string& {
    auto it = file.settings.find(key);
    if (it == file.settings.end()) fail("model file '", path, "': the setting '", key, "' is missing");
    return it->second;
  };
  if (setting("kind") != "model") fail("model file '", path, "' holds only weights; use load_weights on a model");
  Sequential model(SequentialOptions{.name = setting("name"), .seed = std::stoull(setting("seed"))});
  for (const LayerConfig& c : file.layers) model.add(layer_from_config(c));
  std::map<std::string, Tensor> tensors(file.tensors.begin(), file.tensors.end());
  auto restore = [&](const Output& v) {
    auto it = tensors.find(v.node->name);
    if (it == tensors.end()) fail("model file '", path, "': the tensor '", v.node->name, "' is missing");
    if (it->second.shape() != v.shape() || it->second.dtype() != v.dtype())
      fail("model file '", path, "': tensor '", v.node->name, "' is ", dtype_name(it->second.dtype()), it->second.shape(),
           ", the model needs ", dtype_name(v.dtype()), v.shape());
    model.session_->set_variable_value(v.node, it->second);
  };
  model.build();
  for (const Output& w : model.all_weights()) restore(w);
  if (file.settings.count("loss")) {
    std::map<std::string, double> config;
    for (const auto& [k, v] : file.settings)
      if (k.rfind("optimizer.", 0) == 0) config[k.substr(10)] = std::stod(v);
    std::vector<std::string> metrics;
    std::stringstream ms(setting("metrics"));
    for (std::string m; std::getline(ms, m, ',');)
      if (!m.empty()) metrics.push_back(m);
    model.compile({.loss = setting("loss"),
                   .optimizer = optimizers::from_config(setting("optimizer"), config),
                   .metrics = metrics});
    for (const Output& v : model.optimizer_->variables()) restore(v);
  }
  model.session_->set_run_counter(std::stoull(setting("run_counter")));
  return model;
}

}  // namespace horn::keras
