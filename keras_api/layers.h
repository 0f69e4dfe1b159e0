// Keras layers. A layer is a description until a model builds it: `build` creates its
// variables for a known input shape, `call` adds its ops to the graph.
//
//   Dense(500, activation = "sigmoid", input_dim = 784)        // keywords (keras_api/keywords.h)
//   Dense(500, {.input_dim = 784, .activation = "sigmoid"})    // new spelling
//   Dense({.units = 500, .input_dim = 784, .activation = "sigmoid"})
//   Dense({.input_dim = 784, .output_dim = 500}), Activation("sigmoid")  // old spelling
#pragma once
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/graph.h"
#include "keras_api/keywords.h"
#include "keras_api/mixed_precision.h"
#include "keras_api/regularizers.h"

namespace horn::keras {

// A layer's constructor arguments as text, for saving a model's architecture.
using LayerConfig = std::map<std::string, std::string>;

// A variable a layer's build() creates: its name inside the layer ("kernel") and its shape.
struct WeightShape {
  std::string name;
  Shape shape;
};

// What build() makes of its input, known before anything is built or allocated: the output
// shape (without the batch dimension) and the weights, in weights() order. load_model compares
// them with the file's tensors first, so a file cannot make Horn allocate more than it holds.
struct LayerShapes {
  Shape output;
  std::vector<WeightShape> weights;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string type() const = 0;  // "Dense", "Activation", ...

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // The input shape (without the batch dimension) this layer declares, if it is a first layer.
  const std::optional<Shape>& declared_input_shape() const { return input_shape_; }

  // The shapes build() gives for inputs shaped [batch] + input_shape, with build()'s checks,
  // computed without a graph. Sizes may come from a hostile file: arithmetic on them is
  // overflow-checked. build() takes its shapes from here, so the two cannot disagree.
  virtual LayerShapes shapes(const Shape& input_shape) const = 0;
  // Creates the layer's variables in `g` (named "<layer>/kernel", ...) for inputs shaped
  // [batch] + input_shape; returns the output shape without the batch dimension.
  virtual Shape build(Graph& g, const Shape& input_shape, uint64_t seed) = 0;
  // Adds the layer's computation on x; `training` switches Dropout on and makes
  // BatchNormalization use the batch's statistics.
  virtual Output call(Output x, bool training) = 0;
  // Whether call(x, true) computes something else than call(x, false); when no layer does,
  // training and inference share one forward graph.
  virtual bool differs_in_training() const { return false; }
  // State updates made by the latest call(x, true) that are not gradient steps
  // (BatchNormalization's moving averages); every training step runs them as targets.
  virtual std::vector<Node*> updates() const { return {}; }
  // The layer's variables, in Keras's order (kernel, then bias; BatchNormalization: gamma,
  // beta, moving_mean, moving_variance). get_weights, set_weights and files use this order.
  virtual std::vector<Output> weights() const { return {}; }
  // The subset of weights() the optimizer changes.
  virtual std::vector<Output> trainable_weights() const { return weights(); }
  // Keras's layer.losses: the penalties of the layer's regularizers on its weights, made by
  // build(); compile() adds their sum to the loss.
  virtual std::vector<Output> losses() const { return {}; }
  int64_t count_params() const;
  int64_t count_trainable_params() const;
  const Shape& output_shape() const { return output_shape_; }
  // Keras's layer.dtype_policy (keras_api/mixed_precision.h): the global policy when the layer
  // was constructed, or its `dtype` option. Set it before the model is built.
  const mixed_precision::Policy& dtype_policy() const { return policy_; }
  void set_dtype_policy(mixed_precision::Policy policy) { policy_ = std::move(policy); }

  // Writes "dtype" only for a policy other than float32, so float32 models save the bytes
  // they always did; a config without "dtype" is float32 (files made before policies were).
  virtual LayerConfig config() const;

 protected:
  // Keras's add_weight: the variable `weight` (named inside the current name scope), holding
  // `initializer`'s values drawn from `seed`.
  static Output add_weight(Graph& g, const WeightShape& weight, const std::string& initializer,
                           uint64_t seed, bool trainable = true);
  // A layer's `dtype` option: "" keeps the global policy; an unknown name throws, naming the
  // layer.
  void set_dtype_option(const std::string& dtype);

  std::string name_;
  std::optional<Shape> input_shape_;
  Shape output_shape_;
  mixed_precision::Policy policy_ = mixed_precision::global_policy();
};

// Recreates a layer from its saved config; throws for an unknown type or a bad value. Knows
// the layers of this file, conv_layers.h and normalization.h.
std::shared_ptr<Layer> layer_from_config(const LayerConfig& config);

struct DenseOptions {
  int64_t units = 0;         // the new spelling's `units`
  int64_t input_dim = 0;     // first layer only
  int64_t output_dim = 0;    // the old spelling of `units`
  std::string activation;    // "" = linear
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  regularizers::Regularizer kernel_regularizer;  // none by default; "l2", regularizers::l2(1e-4)
  regularizers::Regularizer bias_regularizer;
  std::vector<int64_t> input_shape;  // first layer only, instead of input_dim
  std::string name;
  std::string dtype;  // a dtype policy, "float32" or "mixed_bfloat16"; "" = the global policy
};

class Dense : public Layer {
 public:
  explicit Dense(DenseOptions options);
  Dense(int64_t units, DenseOptions options = {});
  // Keyword arguments in any order (keras_api/keywords.h): Dense(512, activation = "relu").
  template <KeywordArgument... K>
  explicit Dense(const K&... kw) : Dense(with_keywords<DenseOptions>(kw...)) {}
  template <KeywordArgument... K>
  Dense(int64_t units, const K&... kw) : Dense(units, with_keywords<DenseOptions>(kw...)) {}
  std::string type() const override { return "Dense"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  std::vector<Output> weights() const override;
  std::vector<Output> losses() const override;
  LayerConfig config() const override;
  int64_t units() const { return options_.units; }

 private:
  DenseOptions options_;
  Output kernel_, bias_;
};

struct ActivationOptions {
  std::vector<int64_t> input_shape;
  std::string name;
};

class Activation : public Layer {
 public:
  explicit Activation(std::string activation, ActivationOptions options = {});
  template <KeywordArgument... K>
  Activation(std::string activation, const K&... kw)
      : Activation(std::move(activation), with_keywords<ActivationOptions>(kw...)) {}
  std::string type() const override { return "Activation"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  LayerConfig config() const override;

 private:
  std::string activation_;
};

struct LeakyReLUOptions {
  double alpha = 0.3;  // Keras's default slope for x < 0
  std::vector<int64_t> input_shape;
  std::string name;
};

// Keras's advanced activation layer: x where x >= 0, alpha * x elsewhere.
class LeakyReLU : public Layer {
 public:
  explicit LeakyReLU(LeakyReLUOptions options = {});
  template <KeywordArgument... K>
  explicit LeakyReLU(const K&... kw) : LeakyReLU(with_keywords<LeakyReLUOptions>(kw...)) {}
  std::string type() const override { return "LeakyReLU"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  LayerConfig config() const override;

 private:
  double alpha_;
};

struct PReLUOptions {
  std::string alpha_initializer = "zeros";  // Keras's default: starts as a ReLU
  // Axes (1-based, as Keras counts them with the batch as 0) along which one slope is shared:
  // {1, 2} for one slope per channel of NHWC feature maps.
  std::vector<int64_t> shared_axes;
  std::vector<int64_t> input_shape;
  std::string name;
};

// A leaky ReLU whose negative slopes are learnt: max(x, 0) + alpha * min(x, 0), one alpha per
// input element (or per group, with shared_axes).
class PReLU : public Layer {
 public:
  explicit PReLU(PReLUOptions options = {});
  template <KeywordArgument... K>
  explicit PReLU(const K&... kw) : PReLU(with_keywords<PReLUOptions>(kw...)) {}
  std::string type() const override { return "PReLU"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  std::vector<Output> weights() const override { return {alpha_}; }
  LayerConfig config() const override;

 private:
  PReLUOptions options_;
  Output alpha_;
};

struct DropoutOptions {
  std::optional<uint64_t> seed;  // default: derived from the model's seed
  std::vector<int64_t> input_shape;
  std::string name;
};

// Zeroes a fraction `rate` of its inputs while training (scaling the rest by 1/(1-rate));
// the identity in evaluate and predict.
class Dropout : public Layer {
 public:
  explicit Dropout(double rate, DropoutOptions options = {});
  template <KeywordArgument... K>
  Dropout(double rate, const K&... kw) : Dropout(rate, with_keywords<DropoutOptions>(kw...)) {}
  std::string type() const override { return "Dropout"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  bool differs_in_training() const override { return true; }
  LayerConfig config() const override;

 private:
  double rate_;
  std::optional<uint64_t> seed_;
  uint64_t build_seed_ = 0;
};

struct ShapeOptions {
  std::vector<int64_t> input_shape;
  std::string name;
};

class Flatten : public Layer {
 public:
  explicit Flatten(ShapeOptions options = {});
  template <KeywordArgument... K>
  explicit Flatten(const K&... kw) : Flatten(with_keywords<ShapeOptions>(kw...)) {}
  std::string type() const override { return "Flatten"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
};

class Reshape : public Layer {
 public:
  explicit Reshape(std::vector<int64_t> target_shape, ShapeOptions options = {});
  template <KeywordArgument... K>
  Reshape(std::vector<int64_t> target_shape, const K&... kw)
      : Reshape(std::move(target_shape), with_keywords<ShapeOptions>(kw...)) {}
  std::string type() const override { return "Reshape"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override;
  LayerConfig config() const override;

 private:
  std::vector<int64_t> target_;
};

// Declares the model's input shape (without the batch dimension), as keras.Input does.
class Input : public Layer {
 public:
  explicit Input(std::vector<int64_t> shape, std::string name = "");
  std::string type() const override { return "InputLayer"; }
  LayerShapes shapes(const Shape& input_shape) const override;
  Shape build(Graph& g, const Shape& input_shape, uint64_t seed) override;
  Output call(Output x, bool training) override { (void)training; return x; }
};

}  // namespace horn::keras
