#include "keras_api/mixed_precision.h"

#include <mutex>

#include "core/errors.h"
#include "ops/ops.h"

namespace horn::keras::mixed_precision {
namespace {

DType compute_dtype_of(std::string_view name) {
  if (name == "float32") return DType::kFloat32;
  if (name == "mixed_bfloat16") return DType::kBFloat16;
  // Keras's other policies need what Horn lacks: float16 kernels, or bfloat16 variables.
  fail("unknown dtype policy '", name, "'; known: float32, mixed_bfloat16",
       name == "mixed_float16" ? " (Horn has no float16 kernels: use mixed_bfloat16)"
       : name == "bfloat16"    ? " (variables stay float32: use mixed_bfloat16)"
                               : "");
}

std::mutex global_mutex;
Policy& global() {
  static Policy policy("float32");
  return policy;
}

}  // namespace

Policy::Policy(std::string_view name) : name_(name), compute_(compute_dtype_of(name)) {}

void set_global_policy(const Policy& policy) {
  std::lock_guard lock(global_mutex);
  global() = policy;
}

void set_global_policy(std::string_view name) { set_global_policy(Policy(name)); }

Policy global_policy() {
  std::lock_guard lock(global_mutex);
  return global();
}

Output to_compute_dtype(Output x, const Policy& policy) {
  if (x.dtype() == policy.compute_dtype() || !is_any_float(x.dtype())) return x;
  return ops::Cast(x, policy.compute_dtype());
}

}  // namespace horn::keras::mixed_precision
