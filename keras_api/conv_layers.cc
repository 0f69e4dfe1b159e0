#include "keras_api/conv_layers.h"

#include "core/random.h"
#include "keras_api/activations.h"
#include "keras_api/initializers.h"
#include "keras_api/layer_config.h"
#include "ops/ops.h"

namespace horn::keras {
namespace {

using layer_config::dims_text;
using layer_config::optional_shape;

std::string text(const HeightWidth& hw) { return dims_text({hw.height, hw.width}); }

HeightWidth parse_height_width(const std::string& s) {
  const std::vector<int64_t> d = layer_config::parse_dims(s);
  if (d.size() != 2) fail("layer config: expected two numbers (height,width), got '", s, "'");
  return {d[0], d[1]};
}

void check_positive(const std::string& layer, const char* what, const HeightWidth& hw) {
  if (hw.height <= 0 || hw.width <= 0)
    fail(layer, ": ", what, " must be positive, got (", hw.height, ", ", hw.width, ")");
}

void check_padding(const std::string& layer, const std::string& padding) {
  if (padding != "valid" && padding != "same")
    fail(layer, ": padding must be \"valid\" or \"same\", got \"", padding, "\"");
}

// Images are [batch, rows, cols, channels]; a Conv2D after a Flatten or on flat MNIST rows
// is the usual mistake.
void check_image_input(const Layer& layer, const Shape& input_shape) {
  if (input_shape.rank() != 3)
    fail(layer.type(), " '", layer.name(),
         "': expects images of shape [batch, rows, cols, channels], got [batch]+", input_shape,
         input_shape.rank() == 1 ? "; a Flatten or Dense layer cannot come before it" : "",
         input_shape.rank() == 2 ? "; give images a channel axis, e.g. input_shape {28, 28, 1}" : "");
}

// a + b and a * b + c for sizes that may come from a hostile file: never wrap.
int64_t checked_add(const Layer& layer, int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum))
    fail(layer.type(), " '", layer.name(), "': the size ", a, " + ", b, " does not fit in an int64");
  return sum;
}

int64_t checked_mul_add(const Layer& layer, int64_t a, int64_t b, int64_t c) {
  int64_t product;
  if (__builtin_mul_overflow(a, b, &product))
    fail(layer.type(), " '", layer.name(), "': the size ", a, " * ", b, " does not fit in an int64");
  return checked_add(layer, product, c);
}

// Outputs along one axis of a window of `size` (dilated by `dilation`) moved by `stride`.
int64_t window_outputs(const Layer& layer, int64_t input, int64_t size, int64_t stride, int64_t dilation,
                       const std::string& padding) {
  if (padding == "same") return checked_add(layer, input, stride - 1) / stride;
  const int64_t span = checked_mul_add(layer, dilation, size - 1, 1);
  return input >= span ? (input - span) / stride + 1 : 0;
}

Shape window_output_shape(const Layer& layer, const Shape& in, const HeightWidth& window,
                          const HeightWidth& strides, const HeightWidth& dilation, const std::string& padding,
                          int64_t channels) {
  const int64_t rows =
      window_outputs(layer, in.dim(0), window.height, strides.height, dilation.height, padding);
  const int64_t cols = window_outputs(layer, in.dim(1), window.width, strides.width, dilation.width, padding);
  if (rows <= 0 || cols <= 0)
    fail(layer.type(), " '", layer.name(), "': a ", window.height, "x", window.width, " window",
         dilation.height * dilation.width > 1 ? " (dilated)" : "", " does not fit the input [batch]+", in,
         " with padding \"", padding, "\"");
  return Shape{rows, cols, channels};
}

}  // namespace

// ---- Conv2D ----

Conv2D::Conv2D(int64_t filters, HeightWidth kernel_size, Conv2DOptions options)
    : filters_(filters), kernel_size_(kernel_size), options_(std::move(options)) {
  if (filters <= 0) fail("Conv2D: filters must be a positive number, got ", filters);
  check_positive("Conv2D", "kernel_size", kernel_size);
  check_positive("Conv2D", "strides", options_.strides);
  check_positive("Conv2D", "dilation_rate", options_.dilation_rate);
  check_padding("Conv2D", options_.padding);
  if ((options_.strides.height > 1 || options_.strides.width > 1) &&
      (options_.dilation_rate.height > 1 || options_.dilation_rate.width > 1))
    fail("Conv2D: strides > 1 together with dilation_rate > 1 is not supported (as in Keras)");
  activations::validate(options_.activation);
  initializers::validate(options_.kernel_initializer);
  initializers::validate(options_.bias_initializer);
  name_ = options_.name;
  set_dtype_option(options_.dtype);
  input_shape_ = optional_shape(options_.input_shape);
}

LayerShapes Conv2D::shapes(const Shape& input_shape) const {
  check_image_input(*this, input_shape);
  LayerShapes s{.output = window_output_shape(*this, input_shape, kernel_size_, options_.strides,
                                              options_.dilation_rate, options_.padding, filters_),
                .weights = {{"kernel", Shape{kernel_size_.height, kernel_size_.width, input_shape.dim(2),
                                             filters_}}}};
  if (options_.use_bias) s.weights.push_back({"bias", Shape{filters_}});
  return s;
}

Shape Conv2D::build(Graph& g, const Shape& input_shape, uint64_t seed) {
  const LayerShapes s = shapes(input_shape);
  Graph::NameScope scope(g, name_);
  kernel_ = add_weight(g, s.weights[0], options_.kernel_initializer, random::mix64(seed));
  if (options_.use_bias)
    bias_ = add_weight(g, s.weights[1], options_.bias_initializer, random::mix64(seed + 1));
  return output_shape_ = s.output;
}

// Under mixed_bfloat16 the convolution takes bfloat16 operands and gives float32; the bias
// and the activation stay float32, as Dense's (keras_api/mixed_precision.h).
Output Conv2D::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  Output y = ops::Conv2D(mixed_precision::to_compute_dtype(x, policy_),
                         mixed_precision::to_compute_dtype(kernel_, policy_), options_.strides.dims(),
                         options_.padding, options_.dilation_rate.dims());
  if (bias_.valid()) y = ops::Add(y, bias_, "BiasAdd");
  return activations::apply(options_.activation, y);
}

std::vector<Output> Conv2D::weights() const {
  std::vector<Output> w{kernel_};
  if (bias_.valid()) w.push_back(bias_);
  return w;
}

std::vector<Output> Conv2D::losses() const {
  std::vector<Output> penalties;
  regularizers::add_penalty(options_.kernel_regularizer, kernel_, &penalties);
  regularizers::add_penalty(options_.bias_regularizer, bias_, &penalties);
  return penalties;
}

LayerConfig Conv2D::config() const {
  LayerConfig c = Layer::config();
  c["filters"] = std::to_string(filters_);
  c["kernel_size"] = text(kernel_size_);
  c["strides"] = text(options_.strides);
  c["padding"] = options_.padding;
  c["dilation_rate"] = text(options_.dilation_rate);
  c["activation"] = options_.activation;
  c["use_bias"] = options_.use_bias ? "1" : "0";
  c["kernel_initializer"] = options_.kernel_initializer;
  c["bias_initializer"] = options_.bias_initializer;
  if (options_.kernel_regularizer.active()) c["kernel_regularizer"] = options_.kernel_regularizer.text();
  if (options_.bias_regularizer.active()) c["bias_regularizer"] = options_.bias_regularizer.text();
  return c;
}

// ---- MaxPooling2D, AveragePooling2D ----

Pooling2D::Pooling2D(bool max, Pooling2DOptions options) : max_(max), options_(std::move(options)) {
  const char* type = max ? "MaxPooling2D" : "AveragePooling2D";
  check_positive(type, "pool_size", options_.pool_size);
  if (options_.strides.unset()) options_.strides = options_.pool_size;
  check_positive(type, "strides", options_.strides);
  check_padding(type, options_.padding);
  name_ = options_.name;
  input_shape_ = optional_shape(options_.input_shape);
}

LayerShapes Pooling2D::shapes(const Shape& input_shape) const {
  check_image_input(*this, input_shape);
  return {.output = window_output_shape(*this, input_shape, options_.pool_size, options_.strides, 1,
                                        options_.padding, input_shape.dim(2))};
}

Shape Pooling2D::build(Graph&, const Shape& input_shape, uint64_t) {
  return output_shape_ = shapes(input_shape).output;
}

Output Pooling2D::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  const std::vector<int64_t> window = options_.pool_size.dims(), strides = options_.strides.dims();
  return max_ ? ops::MaxPool2D(x, window, strides, options_.padding)
              : ops::AvgPool2D(x, window, strides, options_.padding);
}

LayerConfig Pooling2D::config() const {
  LayerConfig c = Layer::config();
  c["pool_size"] = text(options_.pool_size);
  c["strides"] = text(options_.strides);
  c["padding"] = options_.padding;
  return c;
}

// ---- GlobalAveragePooling2D, GlobalMaxPooling2D ----

GlobalPooling2D::GlobalPooling2D(bool max, ShapeOptions options) : max_(max) {
  name_ = options.name;
  input_shape_ = optional_shape(options.input_shape);
}

LayerShapes GlobalPooling2D::shapes(const Shape& input_shape) const {
  check_image_input(*this, input_shape);
  return {.output = Shape{input_shape.dim(2)}};
}

Shape GlobalPooling2D::build(Graph&, const Shape& input_shape, uint64_t) {
  output_shape_ = shapes(input_shape).output;
  input_shape_seen_ = input_shape;
  return output_shape_;
}

Output GlobalPooling2D::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  if (!max_) return ops::Mean(x, {1, 2});
  // Max has no gradient; a max pool whose window is the whole image has one.
  const std::vector<int64_t> image{input_shape_seen_.dim(0), input_shape_seen_.dim(1)};
  return ops::Reshape(ops::MaxPool2D(x, image, image, "valid"), {-1, input_shape_seen_.dim(2)});
}

// ---- ZeroPadding2D ----

ZeroPadding2D::ZeroPadding2D(Padding2D padding, ShapeOptions options) : padding_(padding) {
  for (int64_t p : {padding.rows.before, padding.rows.after, padding.cols.before, padding.cols.after})
    if (p < 0)
      fail("ZeroPadding2D: padding must be >= 0, got ((", padding.rows.before, ", ", padding.rows.after,
           "), (", padding.cols.before, ", ", padding.cols.after, "))");
  name_ = options.name;
  input_shape_ = optional_shape(options.input_shape);
}

LayerShapes ZeroPadding2D::shapes(const Shape& input_shape) const {
  check_image_input(*this, input_shape);
  const int64_t rows = checked_add(*this, checked_add(*this, input_shape.dim(0), padding_.rows.before),
                                   padding_.rows.after);
  const int64_t cols = checked_add(*this, checked_add(*this, input_shape.dim(1), padding_.cols.before),
                                   padding_.cols.after);
  return {.output = Shape{rows, cols, input_shape.dim(2)}};
}

Shape ZeroPadding2D::build(Graph&, const Shape& input_shape, uint64_t) {
  return output_shape_ = shapes(input_shape).output;
}

Output ZeroPadding2D::call(Output x, bool) {
  Graph::NameScope scope(x.graph(), name_);
  return ops::Pad(
      x, {0, 0, padding_.rows.before, padding_.rows.after, padding_.cols.before, padding_.cols.after, 0, 0});
}

LayerConfig ZeroPadding2D::config() const {
  LayerConfig c = Layer::config();
  c["padding"] =
      dims_text({padding_.rows.before, padding_.rows.after, padding_.cols.before, padding_.cols.after});
  return c;
}

// ---- from config ----

std::shared_ptr<Layer> conv_layer_from_config(const LayerConfig& c) {
  using layer_config::value;
  const std::string& type = value(c, "type");
  const std::vector<int64_t> input_shape = layer_config::input_shape(c);
  const std::string& name = value(c, "name");
  if (type == "Conv2D")
    return std::make_shared<Conv2D>(
        std::stoll(value(c, "filters")), parse_height_width(value(c, "kernel_size")),
        Conv2DOptions{.strides = parse_height_width(value(c, "strides")),
                      .padding = value(c, "padding"),
                      .dilation_rate = parse_height_width(value(c, "dilation_rate")),
                      .activation = value(c, "activation"),
                      .use_bias = value(c, "use_bias") == "1",
                      .kernel_initializer = value(c, "kernel_initializer"),
                      .bias_initializer = value(c, "bias_initializer"),
                      .kernel_regularizer = layer_config::regularizer(c, "kernel_regularizer"),
                      .bias_regularizer = layer_config::regularizer(c, "bias_regularizer"),
                      .input_shape = input_shape,
                      .name = name});
  if (type == "MaxPooling2D" || type == "AveragePooling2D") {
    Pooling2DOptions o{.pool_size = parse_height_width(value(c, "pool_size")),
                       .strides = parse_height_width(value(c, "strides")),
                       .padding = value(c, "padding"),
                       .input_shape = input_shape,
                       .name = name};
    if (type == "MaxPooling2D") return std::make_shared<MaxPooling2D>(o);
    return std::make_shared<AveragePooling2D>(o);
  }
  if (type == "GlobalAveragePooling2D")
    return std::make_shared<GlobalAveragePooling2D>(ShapeOptions{input_shape, name});
  if (type == "GlobalMaxPooling2D")
    return std::make_shared<GlobalMaxPooling2D>(ShapeOptions{input_shape, name});
  if (type == "ZeroPadding2D") {
    const std::vector<int64_t> p = layer_config::parse_dims(value(c, "padding"));
    if (p.size() != 4)
      fail("layer config: ZeroPadding2D's padding needs 4 numbers, got '", value(c, "padding"), "'");
    return std::make_shared<ZeroPadding2D>(Padding2D({p[0], p[1]}, {p[2], p[3]}),
                                           ShapeOptions{input_shape, name});
  }
  return nullptr;
}

}  // namespace horn::keras
