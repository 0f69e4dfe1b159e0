// Sequential: adding layers, building the graph and session, compiling the training step,
// and the model's weights. The rest of the class is in sequential_*.cc, one job per file.
#include "keras_api/sequential.h"

#include <cctype>

#include "core/random.h"
#include "keras_api/metrics.h"
#include "ops/ops.h"

namespace horn::keras {
namespace {

// Keras's to_snake_case: a capital starts a word after a lowercase letter, or before a
// lowercase letter or digit ("MaxPooling2D" -> "max_pooling2d", "Conv2D" -> "conv2d").
std::string snake_case(const std::string& type) {
  auto is = [&](size_t i, int (*test)(int)) {
    return i < type.size() && test(static_cast<unsigned char>(type[i]));
  };
  std::string s;
  for (size_t i = 0; i < type.size(); ++i) {
    const bool starts_word = is(i - 1, std::islower) || is(i + 1, std::islower) || is(i + 1, std::isdigit);
    if (i > 0 && is(i, std::isupper) && starts_word)
      s += '_';
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(type[i])));
  }
  return s == "input_layer" ? "input" : s;
}

}  // namespace

Sequential::Sequential(SequentialOptions options) : options_(std::move(options)) {}

Sequential::Sequential(LayerList layers, SequentialOptions options)
    : options_(std::move(options)) {
  for (auto& l : layers) add(std::move(l));
}

Sequential::~Sequential() = default;
Sequential::Sequential(Sequential&&) noexcept = default;
Sequential& Sequential::operator=(Sequential&&) noexcept = default;

void Sequential::add(std::shared_ptr<Layer> layer) {
  if (!layer) fail("Sequential::add: the layer is null");
  if (built())
    fail("Sequential::add: the model is already built; add every layer before compile/fit/predict");
  if (!layers_.empty() && layer->type() == "InputLayer")
    fail("Sequential::add: an Input must be the first layer");
  if (layer->name().empty()) {
    const std::string base = snake_case(layer->type());
    int count = 1;
    for (const auto& l : layers_) count += l->type() == layer->type();
    layer->set_name(base + "_" + std::to_string(count));
  }
  for (const auto& l : layers_)
    if (l->name() == layer->name())
      fail("Sequential::add: a layer named '", layer->name(), "' is already in the model");
  layers_.push_back(std::move(layer));
}

std::vector<LayerShapes> Sequential::layer_shapes() const {
  if (layers_.empty()) fail("Sequential: the model has no layers; add some with model.add(...)");
  const auto& declared = layers_[0]->declared_input_shape();
  if (!declared)
    fail("Sequential: the first layer ('", layers_[0]->name(), "') must state its input size ",
         "(input_dim or input_shape); only later layers infer theirs");
  std::vector<LayerShapes> shapes;
  Shape shape = *declared;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& layer = layers_[i];
    if (i > 0 && layer->declared_input_shape() && *layer->declared_input_shape() != shape)
      fail("Sequential: layer '", layer->name(), "' declares input shape ", *layer->declared_input_shape(),
           " but the previous layer outputs ", shape);
    shapes.push_back(layer->shapes(shape));
    shape = shapes.back().output;
  }
  return shapes;
}

void Sequential::build() {
  if (built()) return;
  layer_shapes();  // every check before the graph exists
  const Shape& declared = *layers_[0]->declared_input_shape();
  auto graph = std::make_unique<Graph>();
  std::vector<int64_t> dims{-1};
  dims.insert(dims.end(), declared.dims().begin(), declared.dims().end());
  Output x = ops::Placeholder(*graph, DType::kFloat32, Shape(dims), "input");
  Shape shape = declared;
  bool differs_in_training = false;
  for (size_t i = 0; i < layers_.size(); ++i) {
    shape = layers_[i]->build(*graph, shape, random::mix64(options_.seed * 1000003 + i));
    differs_in_training |= layers_[i]->differs_in_training();
  }
  auto forward = [&](bool training) {
    Output h = x;
    for (const auto& layer : layers_) h = layer->call(h, training);
    return h;
  };
  pred_ = forward(false);
  pred_train_ = differs_in_training ? forward(true) : pred_;
  x_ = x;
  graph_ = std::move(graph);
  session_ = std::make_unique<Session>(
      *graph_, SessionOptions{.num_threads = options_.num_threads,
                              .check_numerics = options_.check_numerics,
                              .flush_denormals = options_.flush_denormals});
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

// Everything that can be checked is checked before the model changes; what is built after
// that goes into locals first, so a failure part-way (a custom loss that throws, a metric
// that does not fit the output) leaves the model compiled as it was, or not compiled.
void Sequential::compile(CompileOptions options) {
  if (options.loss.empty()) fail("compile: a loss is needed, e.g. {.loss = \"categorical_crossentropy\"}");
  for (const auto& m : options.metrics) metrics::validate(m);
  std::shared_ptr<optimizers::Optimizer> optimizer =
      options.optimizer.object ? options.optimizer.object : optimizers::get(options.optimizer.name);
  if (optimizer->iterations().node)
    fail("compile: this ", optimizer->name(), " optimizer object already belongs to a compiled model; ",
         "create one optimizer per compile");
  build();
  Graph& g = *graph_;
  const bool sparse = losses::is_sparse(options.loss.name);
  std::vector<int64_t> ydims{-1};
  if (!sparse) ydims.insert(ydims.end(), pred_.shape().dims().begin() + 1, pred_.shape().dims().end());
  Output y = ops::Placeholder(g, DType::kFloat32, Shape(ydims), "target");

  // The training loss weighs each sample (fit's sample_weight and class_weight; ones when
  // neither is given, which changes no bit of the mean); evaluation's does not.
  Output sample_weight = ops::Placeholder(g, DType::kFloat32, Shape{-1}, "sample_weight");
  auto heads = [&](Output pred, Output* loss, std::vector<Output>* values, bool weighted) {
    Graph::NameScope scope(g, "loss");
    Output per_sample = losses::compute(options.loss, y, pred);
    if (weighted) {
      Output w = sample_weight;
      if (per_sample.shape().rank() > 1) {  // per position, as for an image-shaped output
        std::vector<int64_t> dims(per_sample.shape().rank(), 1);
        dims[0] = -1;
        w = ops::Reshape(w, Shape(dims));
      }
      per_sample = per_sample * (w.dtype() == per_sample.dtype() ? w : ops::Cast(w, per_sample.dtype()));
    }
    *loss = ops::Mean(per_sample);
    if (!values) return;
    values->clear();
    for (const auto& m : options.metrics)
      values->push_back(ops::Mean(metrics::compute(m, options.loss.name, y, pred)));
  };
  Output loss, loss_eval;
  std::vector<Output> metric_values, metric_eval_values;
  heads(pred_train_, &loss, &metric_values, /*weighted=*/true);
  // The layers' regularization penalties, summed in layer order, count in the loss of
  // training and evaluation alike (Keras's total loss).
  std::vector<Output> penalties;
  for (const auto& l : layers_)
    for (const Output& p : l->losses()) penalties.push_back(p);
  Output penalty;
  if (!penalties.empty()) {
    Graph::NameScope scope(g, "regularization");
    penalty = penalties.size() == 1 ? penalties[0] : ops::AddN(penalties);
    loss = loss + penalty;
  }
  // Without training-only layers both share the metrics; the loss differs by the weights.
  const bool shared = pred_train_ == pred_;
  heads(pred_, &loss_eval, shared ? nullptr : &metric_eval_values, /*weighted=*/false);
  if (shared) metric_eval_values = metric_values;
  if (penalty.valid()) loss_eval = loss_eval + penalty;
  std::vector<Output> trainable;
  for (const auto& l : layers_)
    for (const Output& v : l->trainable_weights()) trainable.push_back(v);
  std::vector<Node*> train_targets = optimizer->get_updates(loss, trainable);
  for (const auto& l : layers_)
    for (Node* update : l->updates()) train_targets.push_back(update);
  for (const Output& v : optimizer->variables())
    session_->set_variable_value(v.node, v.node->attrs.get<Tensor>("initial_value"));
  if (const Output lr = optimizer->learning_rate_variable(); lr.node)
    session_->set_variable_value(lr.node, lr.node->attrs.get<Tensor>("initial_value"));
  // Nothing below throws.
  loss_ = loss;
  loss_eval_ = loss_eval;
  metric_values_ = std::move(metric_values);
  metric_eval_values_ = std::move(metric_eval_values);
  train_targets_ = std::move(train_targets);
  y_ = y;
  sample_weight_ = sample_weight;
  optimizer_ = std::move(optimizer);
  compile_options_ = std::move(options);
  compiled_ = true;
}

double Sequential::learning_rate() const {
  if (!compiled_) fail("learning_rate: the model must be compiled first");
  if (const auto& schedule = optimizer_->schedule())
    return (*schedule)(session_->variable_value(optimizer_->iterations().node).value_as_double(0));
  return optimizer_->learning_rate();
}

void Sequential::set_learning_rate(double lr) {
  if (!compiled_) fail("set_learning_rate: the model must be compiled first");
  optimizer_->set_learning_rate(lr);  // validates
  const Output v = optimizer_->learning_rate_variable();
  session_->set_variable_value(v.node, Tensor::fill(v.dtype(), {}, lr));
}

std::vector<std::string> Sequential::metrics_names() const {
  std::vector<std::string> names{"loss"};
  for (const auto& m : compile_options_.metrics) names.push_back(m);
  return names;
}

int64_t Sequential::count_params() {
  build();
  int64_t n = 0;
  for (const auto& l : layers_) n += l->count_params();
  return n;
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
      fail("set_weights: weight ", i, " ('", vars[i].name(), "') is ", dtype_name(vars[i].dtype()),
           vars[i].shape(), ", got ", dtype_name(weights[i].dtype()), weights[i].shape());
  for (size_t i = 0; i < vars.size(); ++i) session_->set_variable_value(vars[i].node, weights[i]);
}

}  // namespace horn::keras
