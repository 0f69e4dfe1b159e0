// A tensor shape. A dimension of -1 is unknown until a feed fixes it (the batch dimension).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace horn {

class Shape {
 public:
  static constexpr int64_t kUnknown = -1;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i < 0 ? i + rank() : i]; }
  int64_t operator[](int i) const { return dim(i); }
  void set_dim(int i, int64_t d) { dims_[i] = d; }
  const std::vector<int64_t>& dims() const { return dims_; }

  bool is_fully_known() const;
  // Product of the dimensions; -1 when any is unknown. A scalar has 1 element. Throws an
  // Error when the product does not fit in int64 (never wraps).
  int64_t num_elements() const;
  // True when every known dimension of `other` equals ours (unknowns match anything).
  bool is_compatible_with(const Shape& other) const;

  std::string to_string() const;  // "[100,784]", unknown shown as "?"
  bool operator==(const Shape& o) const { return dims_ == o.dims_; }
  bool operator!=(const Shape& o) const { return dims_ != o.dims_; }

 private:
  std::vector<int64_t> dims_;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.to_string(); }

// The number of elements of `dims` read from outside data (a file header, say): throws an
// Error naming `what` when a dimension is negative or the product overflows int64. Use it
// wherever dimensions come from a file or a stream, before allocating anything.
int64_t checked_num_elements(const std::vector<int64_t>& dims, const std::string& what);

// NumPy broadcasting of two shapes. Returns false when they cannot broadcast.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);

}  // namespace horn
