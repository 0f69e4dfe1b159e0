// Sequential: checks on x and y, before any work, with the model unchanged; they name the
// culprit (shape, sample, label) and the fix.
#include <cmath>

#include "keras_api/sequential.h"

namespace horn::keras {

Tensor Sequential::prepare_x(const Tensor& x, const char* where) const {
  if (!x.defined()) fail(where, ": x is an empty Tensor");
  const Shape& expected = x_.shape();
  bool ok = x.rank() == expected.rank();
  for (int d = 1; ok && d < expected.rank(); ++d) ok = x.dim(d) == expected.dim(d);
  if (!ok)
    fail(where, ": x has shape ", x.shape(), " but the model expects ", expected, " (input of layer '",
         layers_[0]->name(), "')");
  if (x.dim(0) == 0) fail(where, ": x has no samples (shape ", x.shape(), ")");
  Tensor xf = x.dtype() == DType::kFloat32 ? x : x.cast(DType::kFloat32);
  const float* p = xf.data<float>();
  for (int64_t i = 0; i < xf.size(); ++i)
    if (!std::isfinite(p[i])) {
      const int64_t row = i / (xf.size() / xf.dim(0));
      fail(where, ": x contains ", std::isnan(p[i]) ? "NaN" : "an infinity", " (sample ", row, ")");
    }
  return xf;
}

Tensor Sequential::prepare_y(const Tensor& y, const char* where) const {
  if (!y.defined()) fail(where, ": y is an empty Tensor");
  const std::string& loss = compile_options_.loss.name;
  const Shape out = pred_.shape();
  const int64_t classes = out.dim(-1);
  Tensor yf = y.dtype() == DType::kFloat32 ? y : y.cast(DType::kFloat32);
  const float* p = yf.data<float>();
  for (int64_t i = 0; i < yf.size(); ++i)
    if (!std::isfinite(p[i])) fail(where, ": y contains NaN or an infinity (element ", i, ")");
  if (losses::is_sparse(loss)) {
    if (!(y.rank() == 1 || (y.rank() == 2 && y.dim(1) == 1)))
      fail(where, ": ", loss, " takes integer labels of shape [N] or [N,1], got ", y.shape());
    for (int64_t i = 0; i < yf.size(); ++i)
      if (p[i] != std::floor(p[i]) || p[i] < 0 || p[i] >= classes)
        fail(where, ": label ", p[i], " of sample ", i, " is out of range: the model has ", classes,
             " classes (0..", classes - 1, ")");
    return yf.reshaped({yf.size()});
  }
  bool ok = y.rank() == out.rank();
  for (int d = 1; ok && d < out.rank(); ++d) ok = y.dim(d) == out.dim(d);
  if (!ok) {
    std::string hint;
    if (loss == "categorical_crossentropy" && y.rank() == 1)
      hint = str_cat("; categorical_crossentropy needs one-hot rows: use to_categorical(y, ", classes,
                     ") or the loss sparse_categorical_crossentropy");
    fail(where, ": y has shape ", y.shape(), " but the model outputs ", out, hint);
  }
  if (loss == "categorical_crossentropy") {
    for (int64_t r = 0; r < yf.dim(0); ++r) {
      double sum = 0;
      bool in_range = true;
      for (int64_t c = 0; c < classes; ++c) {
        const float v = p[r * classes + c];
        sum += v;
        in_range &= v >= 0 && v <= 1;
      }
      if (!in_range || std::abs(sum - 1) > 1e-3)
        fail(where, ": row ", r, " of y is not one-hot (nor a probability distribution: its values sum to ",
             sum, "); categorical_crossentropy needs one-hot labels, e.g. to_categorical(labels, ", classes,
             ")");
    }
  }
  return yf;
}

void Sequential::check_pair(const Tensor& x, const Tensor& y, const char* where) const {
  if (x.dim(0) != y.dim(0))
    fail(where, ": x has ", x.dim(0), " samples but y has ", y.dim(0), " (shapes ", x.shape(), " and ",
         y.shape(), ")");
}

}  // namespace horn::keras
