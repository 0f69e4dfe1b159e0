// Keras's convolutional and pooling layers over NHWC images (channels_last, Keras's default):
// inputs are [batch, rows, cols, channels], kernels [kernel_rows, kernel_cols, in, filters].
//
//   model.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
//   model.add(Conv2D(64, 3, {.activation = "relu"}));       // one number: a square kernel
//   model.add(MaxPooling2D({.pool_size = {2, 2}}));        // strides default to pool_size
//   model.add(ZeroPadding2D({{1, 1}, {2, 2}}));            // (top, bottom), (left, right)
//   model.add(GlobalAveragePooling2D());                   // [batch, channels]
//
// Padding is TensorFlow's: "valid" keeps only windows that fit, "same" gives ceil(size /
// stride) outputs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "keras_api/layers.h"

namespace horn::keras {

// Keras's "an integer or a tuple of 2 integers": (height, width), one number meaning both.
struct HeightWidth {
  HeightWidth() = default;  // unset: Keras's None (pooling strides: the pool size)
  HeightWidth(int64_t both) : height(both), width(both) {}  // NOLINT: implicit, as Keras's int
  HeightWidth(int64_t height, int64_t width) : height(height), width(width) {}
  bool unset() const { return height == 0 && width == 0; }
  std::vector<int64_t> dims() const { return {height, width}; }
  int64_t height = 0, width = 0;
};

// Zeros before and after one axis; one number means both sides.
struct BeforeAfter {
  BeforeAfter(int64_t both) : before(both), after(both) {}  // NOLINT: implicit
  BeforeAfter(int64_t before, int64_t after) : before(before), after(after) {}
  int64_t before, after;
};

// ZeroPadding2D's padding as Keras takes it: 1 (all sides), {1, 2} (1 row above and below,
// 2 columns left and right) or {{top, bottom}, {left, right}}.
struct Padding2D {
  Padding2D(int64_t all) : rows(all), cols(all) {}  // NOLINT: implicit
  Padding2D(BeforeAfter rows, BeforeAfter cols) : rows(rows), cols(cols) {}
  BeforeAfter rows, cols;
};

struct Conv2DOptions {
  HeightWidth strides = {1, 1};
  std::string padding = "valid";  // or "same"
  HeightWidth dilation_rate = {1, 1};
  std::string activation;  // "" = linear
  bool use_bias = true;
  // Keras's fans for a conv kernel: fan_in = rows * cols * in, fan_out = rows * cols * filters.
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  regularizers::Regularizer kernel_regularizer;  // none by default
  regularizers::Regularizer bias_regularizer;
  std::vector<int64_t> input_shape;  // first layer only: {rows, cols, channels}
  std::string name;
  // A dtype policy ("" = the global one): under "mixed_bfloat16" the convolution takes
  // bfloat16 operands, float32 accumulation and output (keras_api/mixed_precision.h).
  std::string dtype;
};

// y = activation(conv2d(x, kernel) + bias). The compiler applies the bias add and the
// activation to each piece of the convolution's output while it is in cache.
class Conv2D : public Layer {
 public:
  Conv2D(int64_t filters, HeightWidth kernel_size, Conv2DOptions options = {});
  // Keyword arguments in any order: Conv2D(32, {3, 3}, activation = "relu", input_shape = {28, 28, 1}).
  template <KeywordArgument... K>
  Conv2D(int64_t filters, HeightWidth kernel_size, const K&... kw)
      : Conv2D(filters, kernel_size, with_keywords<Conv2DOptions>(kw...)) {}
  std::string type() const override { return "Conv2D"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  std::vector<Output> weights() const override;
  std::vector<Output> losses() const override;
  LayerConfig config() const override;

 private:
  int64_t filters_;
  HeightWidth kernel_size_;
  Conv2DOptions options_;
  Output kernel_, bias_;
};

struct Pooling2DOptions {
  HeightWidth pool_size = {2, 2};
  HeightWidth strides;  // unset (Keras's None): pool_size
  std::string padding = "valid";
  std::vector<int64_t> input_shape;
  std::string name;
};

// The maximum (MaxPooling2D) or the mean (AveragePooling2D) of each window, per channel.
// The mean of a "same" window at the border counts only the pixels inside the image.
class Pooling2D : public Layer {
 public:
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  LayerConfig config() const override;

 protected:
  Pooling2D(bool max, Pooling2DOptions options);

 private:
  bool max_;
  Pooling2DOptions options_;
};

class MaxPooling2D : public Pooling2D {
 public:
  explicit MaxPooling2D(Pooling2DOptions options = {}) : Pooling2D(true, std::move(options)) {}
  template <KeywordArgument... K>
  explicit MaxPooling2D(const K&... kw) : MaxPooling2D(with_keywords<Pooling2DOptions>(kw...)) {}
  std::string type() const override { return "MaxPooling2D"; }
};

class AveragePooling2D : public Pooling2D {
 public:
  explicit AveragePooling2D(Pooling2DOptions options = {}) : Pooling2D(false, std::move(options)) {}
  template <KeywordArgument... K>
  explicit AveragePooling2D(const K&... kw) : AveragePooling2D(with_keywords<Pooling2DOptions>(kw...)) {}
  std::string type() const override { return "AveragePooling2D"; }
};

// The mean (GlobalAveragePooling2D) or maximum (GlobalMaxPooling2D) over rows and columns:
// [batch, rows, cols, channels] -> [batch, channels].
class GlobalPooling2D : public Layer {
 public:
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;

 protected:
  GlobalPooling2D(bool max, ShapeOptions options);

 private:
  bool max_;
  Shape input_shape_seen_;
};

class GlobalAveragePooling2D : public GlobalPooling2D {
 public:
  explicit GlobalAveragePooling2D(ShapeOptions options = {}) : GlobalPooling2D(false, std::move(options)) {}
  template <KeywordArgument... K>
  explicit GlobalAveragePooling2D(const K&... kw) : GlobalAveragePooling2D(with_keywords<ShapeOptions>(kw...)) {}
  std::string type() const override { return "GlobalAveragePooling2D"; }
};

class GlobalMaxPooling2D : public GlobalPooling2D {
 public:
  explicit GlobalMaxPooling2D(ShapeOptions options = {}) : GlobalPooling2D(true, std::move(options)) {}
  template <KeywordArgument... K>
  explicit GlobalMaxPooling2D(const K&... kw) : GlobalMaxPooling2D(with_keywords<ShapeOptions>(kw...)) {}
  std::string type() const override { return "GlobalMaxPooling2D"; }
};

// Rows of zeros above and below, columns of zeros left and right of each image.
class ZeroPadding2D : public Layer {
 public:
  explicit ZeroPadding2D(Padding2D padding = 1, ShapeOptions options = {});
  template <KeywordArgument... K>
  ZeroPadding2D(Padding2D padding, const K&... kw) : ZeroPadding2D(padding, with_keywords<ShapeOptions>(kw...)) {}
  std::string type() const override { return "ZeroPadding2D"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  LayerConfig config() const override;

 private:
  Padding2D padding_;
};

// The layers of this file from their saved config; nullptr for another layer type.
std::shared_ptr<Layer> conv_layer_from_config(const LayerConfig& config);

}  // namespace horn::keras
