#include "core/numeric_check.h"

#include <cmath>

#include "core/op_registry.h"

namespace horn::runtime {
namespace {

template <typename T>
int64_t first_non_finite(const Tensor& t) {
  const T* v = t.data<T>();
  for (int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(v[i])) return i;
  return -1;
}

// "dense_1" for "dense_1/MatMul", "fused/dense_1/Sigmoid" or "gradients/dense_1/MatMul_grad".
std::string layer_of(const std::string& node_name) {
  std::string name = node_name;
  for (const std::string prefix : {"fused/", "gradients/"})
    if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  const size_t slash = name.find('/');
  return slash == std::string::npos ? "" : name.substr(0, slash);
}

}  // namespace

void check_numerics(const Node& node, const std::vector<Tensor>& outputs, uint64_t run_index) {
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& t = outputs[k];
    if (!t.defined() || !is_floating(t.dtype())) continue;
    const int64_t at = t.dtype() == DType::kFloat64 ? first_non_finite<double>(t) : first_non_finite<float>(t);
    if (at < 0) continue;
    const double value = t.value_as_double(at);
    const std::string op = node.attrs.has("ops") ? node.op_name() + "(" + node.attrs.get<std::string>("ops") + ")"
                                                  : node.op_name();
    const std::string layer = layer_of(node.name);
    fail("check_numerics: ", op, " '", node.name, "'", layer.empty() ? "" : " (layer '" + layer + "')",
         " produced ", std::isnan(value) ? "NaN" : value > 0 ? "+inf" : "-inf", " at element ", at, " of output ",
         k, " ", t.shape(), " in run ", run_index);
  }
}

}  // namespace horn::runtime
