// Keras's JSON model description, as Keras 2 (.h5 `model_config`), Keras 3 (config.json) and
// TensorFlow.js Layers (model.json `modelTopology`) write it, converted to and from the
// LayerConfigs and compile settings of Horn's own model file (keras_api/model_file.h). Every
// foreign format is a reader/writer of a ModelFile; Sequential and layer_from_config do the
// rest, so a Keras file and a .horn file rebuild a model the same way.
//
// Import refuses, with an error naming the layer and the feature, whatever Horn would not
// compute the same: an unknown layer class or activation, channels_first, a non-float32
// dtype, a regularizer with a non-zero factor other than an L1/L2/L1L2 on a Dense or Conv2D
// kernel or bias, a constraint, a functional model that is not a
// single chain, an unknown dimension other than the batch. The input is hostile: every field
// is type-checked before use.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "keras_api/layers.h"

namespace horn::keras {

struct ModelFile;

// How a writer spells optimizer settings: Keras's "learning_rate"/"beta_1" and class names
// ("RMSprop"), or TensorFlow.js's "learningRate"/"beta1" ("RMSProp", "Momentum").
enum class KerasDialect { kKeras, kTfjs };

// {"class_name": "Sequential" | "Model" | "Functional", "config": {...}} -> layers in order,
// the first carrying the input shape. Sets settings "name" of `file` and appends its layers.
// `keras_version` is the file's ("3.3.3"): Keras 3 redefined hard_sigmoid (relu6(x + 3) / 6,
// not Keras 2's and TensorFlow.js's 0.2 x + 0.5), so Keras 3 files using it are refused.
void read_keras_model_config(const nlohmann::json& model_config, ModelFile* file,
                             const std::string& keras_version = "");
// A training config ({"loss", "metrics", "optimizer_config"}) -> settings "loss", "metrics",
// "optimizer", "optimizer.<key>" of `file`. Optimizer state is not imported: the file says so
// with the setting "optimizer_state" = "none", and training resumes with fresh slots.
void read_keras_training_config(const nlohmann::json& training_config, ModelFile* file);

// Which Keras writes a model config: Keras 2 (TensorFlow.js reads that form too) or Keras 3
// (module/class_name/config/registered_name objects, dtype policies, build configs).
enum class KerasVersion { k2, k3 };

// Keras 3's compile_config ({"optimizer", "loss", "metrics", ...}: names or serialized objects)
// -> the same settings as read_keras_training_config; an empty object is an uncompiled model.
void read_keras_compile_config(const nlohmann::json& compile_config, ModelFile* file);
// A compiled model's compile_config in Keras 3's form; throws for what Keras 3's optimizers
// lack (decay, a Nadam schedule_decay other than 0.004).
nlohmann::json keras_compile_config(const ModelFile& file);

// The reverse: a Sequential model config in `version`'s layout. Keras 3's starts with an
// InputLayer, made when the model's first layer is not one.
nlohmann::json keras_model_config(const ModelFile& file, KerasVersion version = KerasVersion::k2);
// The training config of a compiled model's file; throws when `dialect` has no spelling for
// one of its settings (TensorFlow.js has no Nadam, no SGD with decay, ...).
nlohmann::json keras_training_config(const ModelFile& file, KerasDialect dialect);

// The Keras names of a layer's weights, in Keras's order ("kernel", "bias"; "gamma", "beta",
// "moving_mean", "moving_variance"), from its LayerConfig; Horn's variables are named
// "<layer name>/<weight name>".
std::vector<std::string> keras_weight_names(const LayerConfig& layer);

// Before a model is built from a foreign file: every layer's weights are among the file's
// tensors, with the rank and output size the layer's config implies, and no tensor is left
// over. The tensors were sized against the file's bytes, so this bounds what building the
// model allocates for its weights.
void check_weights_match_layers(const ModelFile& file);

}  // namespace horn::keras
