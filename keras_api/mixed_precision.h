// Keras's dtype policies (tf.keras.mixed_precision): which dtype a layer computes in and which
// its variables are stored in.
//
//   keras::mixed_precision::set_global_policy("mixed_bfloat16");   // layers made from now on
//   model.add(Dense(500, {.activation = "sigmoid"}));                // computes in bfloat16
//   model.add(Dense(10, {.activation = "softmax", .dtype = "float32"}));  // per layer
//
// "float32" (the default): everything in float32, the graph Horn always built.
// "mixed_bfloat16": variables and optimizer state stay float32; Dense casts its input and
// kernel to bfloat16 and multiplies them on the bfloat16 MatMul (float32 accumulation and
// output, AMX through oneDNN here); its gradients flow back through the casts into the
// float32 variables. Horn then adds the bias and applies the activation in float32 (Keras
// does both in bfloat16): one rounding fewer, and a softmax is always float32. Losses and
// metrics are float32. Conv2D does the same with its input and kernel (the bfloat16
// convolution runs its im2col GEMMs on oneDNN's AMX kernels).
//
// A layer takes the global policy when it is constructed (as Keras); a saved model records
// each layer's policy and load_model restores it, whatever the global policy is then.
#pragma once
#include <string>
#include <string_view>

#include "core/dtype.h"
#include "core/graph.h"

namespace horn::keras::mixed_precision {

class Policy {
 public:
  // "float32" or "mixed_bfloat16"; anything else throws, naming the known policies.
  explicit Policy(std::string_view name);
  const std::string& name() const { return name_; }
  // The dtype of the layer's computations (its matrix products).
  DType compute_dtype() const { return compute_; }
  // The dtype of its variables: float32 under both policies.
  DType variable_dtype() const { return DType::kFloat32; }
  bool operator==(const Policy& other) const { return name_ == other.name_; }

 private:
  std::string name_;
  DType compute_;
};

// The policy that layers constructed afterwards take when they are given none. Process-wide,
// as in Keras; safe to call from any thread.
void set_global_policy(const Policy& policy);
void set_global_policy(std::string_view name);
Policy global_policy();

// `x` in the policy's compute dtype: a Cast node when x has another float dtype, x itself
// otherwise (the float32 policy adds nothing to the graph).
Output to_compute_dtype(Output x, const Policy& policy);

}  // namespace horn::keras::mixed_precision
