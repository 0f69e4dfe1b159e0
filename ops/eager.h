// NumPy-style arithmetic on concrete Tensors, for the code around a model: scaling inputs,
// reading predictions. Each call runs the registered op on a one-op graph, so it has that
// op's broadcasting, dtype rules and error messages, and there is no second kernel to keep in
// step with the first. A double operand becomes a scalar of the tensor's dtype, as with Output.
//
//   Tensor x = x_train.cast(DType::kFloat32) / 255;
//   Tensor classes = tensor::argmax(model.predict(x), 1);       // int32 [N]
//   double acc = tensor::mean(tensor::equal(classes, labels).cast(DType::kFloat32)).value_as_double(0);
#pragma once
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "ops/ops.h"

namespace horn {

// Runs `op` on placeholders fed with `inputs` and returns its output.
Tensor eager(const std::vector<Tensor>& inputs, const std::function<Output(const std::vector<Output>&)>& op);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
// Comparisons give bool tensors. == and != are tensor::equal / not_equal: as operators they
// would turn every Tensor comparison in user code (and in test macros) elementwise.
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, double b);
Tensor operator<=(const Tensor& a, double b);
Tensor operator>(const Tensor& a, double b);
Tensor operator>=(const Tensor& a, double b);

namespace tensor {
Tensor equal(const Tensor& a, const Tensor& b);
Tensor argmax(const Tensor& x, int64_t axis = -1);  // int32 indexes, the first maximum
Tensor sum(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 dimension is inferred
}  // namespace tensor

}  // namespace horn
