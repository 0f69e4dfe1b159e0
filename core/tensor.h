// A dense, contiguous, row-major tensor. Storage is 64-byte aligned (one cache line, one
// AVX-512 vector) and shared between copies of the Tensor object: `Tensor b = a` aliases,
// `a.copy()` duplicates. Shapes of a Tensor are always fully known.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/shape.h"

namespace horn {

class Tensor {
 public:
  Tensor() = default;  // an empty "null" tensor: !t.defined()
  Tensor(DType dtype, const Shape& shape);  // uninitialised storage

  // From values; the shape's element count must match.
  template <typename T>
  Tensor(const Shape& shape, const std::vector<T>& values);
  template <typename T>
  static Tensor scalar(T value) { return Tensor(Shape{}, std::vector<T>{value}); }

  // A tensor over storage owned elsewhere (the `storage` pointer may alias a larger block,
  // e.g. a plan's arena, whose lifetime it shares). No allocation.
  static Tensor view(std::shared_ptr<uint8_t> storage, DType dtype, const Shape& shape);
  static Tensor zeros(DType dtype, const Shape& shape);
  static Tensor ones(DType dtype, const Shape& shape);
  static Tensor fill(DType dtype, const Shape& shape, double value);
  static Tensor arange(DType dtype, int64_t n);  // 0, 1, ..., n-1 as a vector
  static Tensor uniform(DType dtype, const Shape& shape, double low, double high, uint64_t seed);
  static Tensor normal(DType dtype, const Shape& shape, double mean, double stddev, uint64_t seed);
  // TensorFlow's truncated_normal: normal values, those beyond two standard deviations of the
  // mean redrawn (so the spread is ~0.88 stddev).
  static Tensor truncated_normal(DType dtype, const Shape& shape, double mean, double stddev, uint64_t seed);

  bool defined() const { return defined_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_.dim(i); }
  int64_t size() const { return size_; }
  size_t nbytes() const { return size_ * dtype_size(dtype_); }

  // Typed access; throws when T does not match the dtype.
  template <typename T> T* data();
  template <typename T> const T* data() const;
  template <typename T> std::span<T> flat() { return {data<T>(), static_cast<size_t>(size_)}; }
  template <typename T> std::span<const T> flat() const {
    return {data<T>(), static_cast<size_t>(size_)};
  }
  void* raw_data() { return buffer_.get(); }
  const void* raw_data() const { return buffer_.get(); }

  // Element at a multi-index, bounds-checked (for tests and small tensors, not kernels).
  template <typename T> T& at(std::initializer_list<int64_t> index);
  template <typename T> T at(std::initializer_list<int64_t> index) const;
  // Any element as double, by flat index.
  double value_as_double(int64_t flat_index) const;

  Tensor copy() const;
  // Same storage, another shape with the same element count.
  Tensor reshaped(const Shape& shape) const;
  // Rows [begin, end) of the first dimension, copied.
  Tensor slice_rows(int64_t begin, int64_t end) const;
  // Rows picked by index along the first dimension, copied (for shuffled mini-batches).
  Tensor gather_rows(std::span<const int64_t> rows) const;
  Tensor cast(DType to) const;
  // Writes this tensor's values, converted, into `out` (same shape, any dtype), in parallel
  // blocks: the Cast kernel's way of filling its planned output.
  void cast_into(Tensor& out) const;

  bool shares_storage_with(const Tensor& other) const { return buffer_ == other.buffer_; }
  // Same dtype, shape and bytes.
  bool bitwise_equal(const Tensor& other) const;

  // NumPy-like text: "[[1, 2],\n [3, 4]]"; large tensors are elided with "...".
  std::string to_string(int max_per_dim = 6) const;

 private:
  template <typename T> void check_type() const;
  int64_t flat_index(std::initializer_list<int64_t> index) const;

  DType dtype_ = DType::kFloat32;
  Shape shape_;
  int64_t size_ = 0;
  bool defined_ = false;
  std::shared_ptr<uint8_t> buffer_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- template definitions ----

template <typename T>
void Tensor::check_type() const {
  if (DTypeOf<T>::value != dtype_)
    fail("Tensor: accessed a ", dtype_name(dtype_), " tensor ", shape_, " as ",
         dtype_name(DTypeOf<T>::value));
}

template <typename T>
Tensor::Tensor(const Shape& shape, const std::vector<T>& values)
    : Tensor(DTypeOf<T>::value, shape) {
  if (static_cast<int64_t>(values.size()) != size_)
    fail("Tensor: shape ", shape, " holds ", size_, " elements but ", values.size(),
         " values were given");
  std::copy(values.begin(), values.end(), data<T>());
}

template <typename T>
T* Tensor::data() {
  check_type<T>();
  return reinterpret_cast<T*>(buffer_.get());
}

template <typename T>
const T* Tensor::data() const {
  check_type<T>();
  return reinterpret_cast<const T*>(buffer_.get());
}

template <typename T>
T& Tensor::at(std::initializer_list<int64_t> index) {
  return data<T>()[flat_index(index)];
}

template <typename T>
T Tensor::at(std::initializer_list<int64_t> index) const {
  return data<T>()[flat_index(index)];
}

}  // namespace horn
