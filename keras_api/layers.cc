#include "keras_api/layers.h"

#include <cmath>

#include "core/attr.h"
#include "core/random.h"
#include "keras_api/activations.h"
#include "keras_api/conv_layers.h"
#include "keras_api/initializers.h"
#include "keras_api/layer_config.h"
#include "keras_api/normalization.h"
#include "ops/ops.h"

namespace horn::keras {
using layer_config::dims_text;
using layer_config::optional_shape;
using layer_config::parse_dims;

namespace {
int64_t count_elements(const std::vector<Output>& weights) {
  int64_t n = 0;
  for (const Output& w : weights) n += w.shape().num_elements();
  return n;
}
}  // namespace

int64_t Layer::count_params() const { return count_elements(weights()); }
int64_t Layer::count_trainable_params() const { return count_elements(trainable_weights()); }

Output Layer::add_weight(Graph& g, const WeightShape& weight, const std::string& initializer,
                         uint64_t seed, bool trainable) {
  return ops::Variable(g, initializers::make(initializer, weight.shape, seed), weight.name, trainable);
}

void Layer::set_dtype_option(const std::string& dtype) {
  if (dtype.empty()) return;
  try {
    policy_ = mixed_precision::Policy(dtype);
  } catch (const Error& e) {
    fail(type(), name_.empty() ? "" : " '" + name_ + "'", ": dtype: ", e.what());
  }
}

LayerConfig Layer::config() const {
  LayerConfig c{{"type", type()}, {"name", name_}};
  if (input_shape_) c["input_shape"] = dims_text(input_shape_->dims());
  if (policy_.name() != "float32") c["dtype"] = policy_.name();
  return c;
}

// ---- Dense ----

Dense::Dense(DenseOptions options) : options_(std::move(options)) {
  if (options_.units && options_.output_dim && options_.units != options_.output_dim)
    fail("Dense: units (", options_.units, ") and output_dim (", options_.output_dim, ") disagree; give one");
  if (!options_.units) options_.units = options_.output_dim;
  if (options_.units <= 0) fail("Dense: units must be a positive number, got ", options_.units);
  if (options_.input_dim < 0) fail("Dense: input_dim must be positive, got ", options_.input_dim);
  activations::validate(options_.activation);
  initializers::validate(options_.kernel_initializer);
  initializers::validate(options_.bias_initializer);
  name_ = options_.name;
  set_dtype_option(options_.dtype);
  if (options_.input_dim > 0) input_shape_ = Shape{options_.input_dim};
  else input_shape_ = optional_shape(options_.input_shape);
}

Dense::Dense(int64_t units, DenseOptions options)
    : Dense([&] {
        if (options.units && options.units != units)
          fail("Dense: units given twice (", units, " and ", options.units, ")");
        options.units = units;
        return options;
      }()) {}

LayerShapes Dense::shapes(const Shape& input_shape) const {
  if (input_shape.rank() != 1)
    fail("Dense '", name_, "': expects inputs of shape [batch, features], got [batch]+", input_shape,
         "; add a Flatten layer first");
  const int64_t in = input_shape.dim(0), out = options_.units;
  LayerShapes s{.output = Shape{out}, .weights = {{"kernel", Shape{in, out}}}};
  if (options_.use_bias) s.weights.push_back({"bias", Shape{out}});
  return s;
}

Shape Dense::build(Graph& g, const Shape& input_shape, uint64_t seed) {
  const LayerShapes s = shapes(input_shape);
  Graph::NameScope scope(g, name_);
  kernel_ = add_weight(g, s.weights[0], options_.kernel_initializer, random::mix64(seed));
  if (options_.use_bias)
    bias_ = add_weight(g, s.weights[1], options_.bias_initializer, random::mix64(seed + 1));
  return output_shape_ = s.output;
}

// Under mixed_bfloat16 the product takes bfloat16 operands and gives float32; the bias and
// the activation stay float32 (keras_api/mixed_precision.h says why).
Output Dense::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  Output y = ops::MatMul(mixed_precision::to_compute_dtype(x, policy_),
                         mixed_precision::to_compute_dtype(kernel_, policy_));
  if (bias_.valid()) y = ops::Add(y, bias_, "BiasAdd");
  return activations::apply(options_.activation, y);
}

std::vector<Output> Dense::weights() const {
  std::vector<Output> w{kernel_};
  if (bias_.valid()) w.push_back(bias_);
  return w;
}

std::vector<Output> Dense::losses() const {
  std::vector<Output> penalties;
  regularizers::add_penalty(options_.kernel_regularizer, kernel_, &penalties);
  regularizers::add_penalty(options_.bias_regularizer, bias_, &penalties);
  return penalties;
}

LayerConfig Dense::config() const {
  LayerConfig c = Layer::config();
  c["units"] = std::to_string(options_.units);
  c["activation"] = options_.activation;
  c["use_bias"] = options_.use_bias ? "1" : "0";
  c["kernel_initializer"] = options_.kernel_initializer;
  c["bias_initializer"] = options_.bias_initializer;
  // Only when set: a model without regularizers saves the bytes it always did.
  if (options_.kernel_regularizer.active()) c["kernel_regularizer"] = options_.kernel_regularizer.text();
  if (options_.bias_regularizer.active()) c["bias_regularizer"] = options_.bias_regularizer.text();
  return c;
}

// ---- Activation ----

Activation::Activation(std::string activation, ActivationOptions options) : activation_(std::move(activation)) {
  activations::validate(activation_);
  name_ = options.name;
  input_shape_ = optional_shape(options.input_shape);
}

LayerShapes Activation::shapes(const Shape& input_shape) const { return {.output = input_shape}; }

Shape Activation::build(Graph&, const Shape& input_shape, uint64_t) { return output_shape_ = input_shape; }

Output Activation::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  return activations::apply(activation_, x);
}

LayerConfig Activation::config() const {
  LayerConfig c = Layer::config();
  c["activation"] = activation_;
  return c;
}

// ---- LeakyReLU ----

LeakyReLU::LeakyReLU(LeakyReLUOptions options) : alpha_(options.alpha) {
  if (!std::isfinite(alpha_)) fail("LeakyReLU: alpha must be finite, got ", alpha_);
  name_ = options.name;
  input_shape_ = optional_shape(options.input_shape);
}

LayerShapes LeakyReLU::shapes(const Shape& input_shape) const { return {.output = input_shape}; }

Shape LeakyReLU::build(Graph&, const Shape& input_shape, uint64_t) { return output_shape_ = input_shape; }

// max(x, alpha x) is x for x >= 0 and alpha x below whenever alpha <= 1 (min when above): an
// elementwise op the compiler fuses with its neighbours, unlike a select.
Output LeakyReLU::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  return alpha_ <= 1 ? ops::Maximum(x, x * alpha_) : ops::Minimum(x, x * alpha_);
}

LayerConfig LeakyReLU::config() const {
  LayerConfig c = Layer::config();
  c["alpha"] = exact_double_string(alpha_);
  return c;
}

// ---- PReLU ----

PReLU::PReLU(PReLUOptions options) : options_(std::move(options)) {
  initializers::validate(options_.alpha_initializer);
  for (int64_t axis : options_.shared_axes)
    if (axis < 1) fail("PReLU: shared_axes counts from 1 (0 is the batch), got ", axis);
  name_ = options_.name;
  input_shape_ = optional_shape(options_.input_shape);
}

LayerShapes PReLU::shapes(const Shape& input_shape) const {
  std::vector<int64_t> alpha = input_shape.dims();
  for (int64_t axis : options_.shared_axes) {
    if (axis > input_shape.rank())
      fail("PReLU '", name_, "': shared axis ", axis, " is past the input's last axis (inputs [batch]+", input_shape, ")");
    alpha[axis - 1] = 1;
  }
  return {.output = input_shape, .weights = {{"alpha", Shape(alpha)}}};
}

Shape PReLU::build(Graph& g, const Shape& input_shape, uint64_t seed) {
  const LayerShapes s = shapes(input_shape);
  Graph::NameScope scope(g, name_);
  alpha_ = add_weight(g, s.weights[0], options_.alpha_initializer, random::mix64(seed));
  return output_shape_ = s.output;
}

Output PReLU::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  const Output zero = ops::Scalar(x.graph(), 0, x.dtype());
  return ops::Maximum(x, zero) + alpha_ * ops::Minimum(x, zero);
}

LayerConfig PReLU::config() const {
  LayerConfig c = Layer::config();
  c["alpha_initializer"] = options_.alpha_initializer;
  c["shared_axes"] = dims_text(options_.shared_axes);
  return c;
}

// ---- Dropout ----

Dropout::Dropout(double rate, DropoutOptions options) : rate_(rate), seed_(options.seed) {
  if (!(rate >= 0 && rate < 1)) fail("Dropout: rate must be in [0, 1), got ", rate);
  name_ = options.name;
  input_shape_ = optional_shape(options.input_shape);
}

LayerShapes Dropout::shapes(const Shape& input_shape) const { return {.output = input_shape}; }

Shape Dropout::build(Graph&, const Shape& input_shape, uint64_t seed) {
  build_seed_ = seed_ ? *seed_ : random::mix64(seed);
  return output_shape_ = input_shape;
}

Output Dropout::call(Output x, bool training) {
  if (!training || rate_ == 0) return x;
  Graph::NameScope scope(x.graph(), name_);
  return ops::Dropout(x, rate_, build_seed_);
}

LayerConfig Dropout::config() const {
  LayerConfig c = Layer::config();
  c["rate"] = exact_double_string(rate_);  // reloads bitwise equal
  if (seed_) c["seed"] = std::to_string(*seed_);
  return c;
}

// ---- Flatten, Reshape, Input ----

Flatten::Flatten(ShapeOptions options) {
  name_ = options.name;
  input_shape_ = optional_shape(options.input_shape);
}

LayerShapes Flatten::shapes(const Shape& input_shape) const {
  return {.output = Shape{checked_num_elements(input_shape.dims(), str_cat("Flatten '", name_, "'"))}};
}

Shape Flatten::build(Graph&, const Shape& input_shape, uint64_t) {
  return output_shape_ = shapes(input_shape).output;
}

Output Flatten::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  return ops::Reshape(x, {-1, output_shape_.dim(0)});
}

Reshape::Reshape(std::vector<int64_t> target_shape, ShapeOptions options) : target_(std::move(target_shape)) {
  name_ = options.name;
  input_shape_ = optional_shape(options.input_shape);
}

LayerShapes Reshape::shapes(const Shape& input_shape) const {
  const std::string what = str_cat("Reshape '", name_, "'");
  std::vector<int64_t> known_dims;
  for (int64_t d : target_)
    if (d >= 0) known_dims.push_back(d);
  const int64_t unknown = static_cast<int64_t>(target_.size() - known_dims.size());
  const int64_t known = checked_num_elements(known_dims, what);
  const int64_t n = checked_num_elements(input_shape.dims(), what);
  if (unknown > 1 || (unknown == 0 && known != n) || (unknown == 1 && (known == 0 || n % known)))
    fail(what, ": cannot reshape [batch]+", input_shape, " to [batch]+", Shape(target_));
  std::vector<int64_t> dims = target_;
  for (int64_t& d : dims)
    if (d < 0) d = n / known;
  return {.output = Shape(dims)};
}

Shape Reshape::build(Graph&, const Shape& input_shape, uint64_t) {
  return output_shape_ = shapes(input_shape).output;
}

Output Reshape::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  std::vector<int64_t> dims{-1};
  dims.insert(dims.end(), output_shape_.dims().begin(), output_shape_.dims().end());
  return ops::Reshape(x, Shape(dims));
}

LayerConfig Reshape::config() const {
  LayerConfig c = Layer::config();
  c["target_shape"] = dims_text(target_);
  return c;
}

Input::Input(std::vector<int64_t> shape, std::string name) {
  name_ = std::move(name);
  input_shape_ = optional_shape(shape);
  if (!input_shape_) fail("Input: needs a shape");
}

LayerShapes Input::shapes(const Shape& input_shape) const { return {.output = input_shape}; }

Shape Input::build(Graph&, const Shape& input_shape, uint64_t) { return output_shape_ = input_shape; }

// ---- from config ----

namespace {
std::shared_ptr<Layer> layer_of_type(const LayerConfig& c) {
  using layer_config::value;
  const std::string& type = value(c, "type");
  std::vector<int64_t> input_shape = layer_config::input_shape(c);
  const std::string& name = value(c, "name");
  std::shared_ptr<Layer> layer = conv_layer_from_config(c);
  if (!layer) layer = normalization_layer_from_config(c);
  if (layer) return layer;
  if (type == "Dense") {
    layer = std::make_shared<Dense>(DenseOptions{.units = std::stoll(value(c, "units")),
                                                 .activation = value(c, "activation"),
                                                 .use_bias = value(c, "use_bias") == "1",
                                                 .kernel_initializer = value(c, "kernel_initializer"),
                                                 .bias_initializer = value(c, "bias_initializer"),
                                                 .kernel_regularizer = layer_config::regularizer(c, "kernel_regularizer"),
                                                 .bias_regularizer = layer_config::regularizer(c, "bias_regularizer"),
                                                 .input_shape = input_shape,
                                                 .name = name});
  } else if (type == "Activation") {
    layer = std::make_shared<Activation>(value(c, "activation"), ActivationOptions{input_shape, name});
  } else if (type == "LeakyReLU") {
    layer = std::make_shared<LeakyReLU>(
        LeakyReLUOptions{.alpha = std::stod(value(c, "alpha")), .input_shape = input_shape, .name = name});
  } else if (type == "PReLU") {
    layer = std::make_shared<PReLU>(PReLUOptions{.alpha_initializer = value(c, "alpha_initializer"),
                                                 .shared_axes = parse_dims(value(c, "shared_axes")),
                                                 .input_shape = input_shape,
                                                 .name = name});
  } else if (type == "Dropout") {
    DropoutOptions o{.input_shape = input_shape, .name = name};
    if (c.count("seed")) o.seed = std::stoull(c.at("seed"));
    layer = std::make_shared<Dropout>(std::stod(value(c, "rate")), o);
  } else if (type == "Flatten") {
    layer = std::make_shared<Flatten>(ShapeOptions{input_shape, name});
  } else if (type == "Reshape") {
    layer = std::make_shared<Reshape>(parse_dims(value(c, "target_shape")), ShapeOptions{input_shape, name});
  } else if (type == "InputLayer") {
    layer = std::make_shared<Input>(input_shape, name);
  } else {
    fail("unknown layer type '", type, "'; known: Activation, AveragePooling2D, BatchNormalization, Conv2D, ",
         "Dense, Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, LeakyReLU, MaxPooling2D, ",
         "PReLU, Reshape, ZeroPadding2D");
  }
  return layer;
}
}  // namespace

std::shared_ptr<Layer> layer_from_config(const LayerConfig& c) {
  std::shared_ptr<Layer> layer = layer_of_type(c);
  // The policy the layer was saved with, not the global one; no "dtype": a float32 layer.
  layer->set_dtype_policy(mixed_precision::Policy(c.count("dtype") ? c.at("dtype") : "float32"));
  return layer;
}

}  // namespace horn::keras
