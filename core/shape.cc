#include "core/shape.h"

#include <algorithm>

#include "core/errors.h"

namespace horn {

bool Shape::is_fully_known() const {
  return std::all_of(dims_.begin(), dims_.end(), [](int64_t d) { return d >= 0; });
}

int64_t Shape::num_elements() const {
  int64_t n = 1;
  for (int64_t d : dims_)
    if (d < 0) return kUnknown;
  for (int64_t d : dims_)
    if (__builtin_mul_overflow(n, d, &n))
      fail("shape ", to_string(), " has more elements than an int64 can count");
  return n;
}

int64_t checked_num_elements(const std::vector<int64_t>& dims, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d < 0) fail(what, ": dimension ", d, " of shape ", Shape(dims), " is negative");
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n))
      fail(what, ": shape ", Shape(dims), " has more elements than an int64 can count");
  return n;
}

bool Shape::is_compatible_with(const Shape& other) const {
  if (rank() != other.rank()) return false;
  for (int i = 0; i < rank(); ++i)
    if (dims_[i] >= 0 && other.dims_[i] >= 0 && dims_[i] != other.dims_[i]) return false;
  return true;
}

std::string Shape::to_string() const {
  std::string s = "[";
  for (int i = 0; i < rank(); ++i) {
    if (i) s += ",";
    s += dims_[i] < 0 ? "?" : std::to_string(dims_[i]);
  }
  return s + "]";
}

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  const int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> dims(rank);
  for (int i = 0; i < rank; ++i) {
    const int ia = i - (rank - a.rank()), ib = i - (rank - b.rank());
    const int64_t da = ia >= 0 ? a.dim(ia) : 1, db = ib >= 0 ? b.dim(ib) : 1;
    if (da == 1) dims[i] = db;
    else if (db == 1) dims[i] = da;
    else if (da < 0) dims[i] = db;  // unknown vs known n (or unknown): assume it is n
    else if (db < 0) dims[i] = da;
    else if (da == db) dims[i] = da;
    else return false;
  }
  *out = Shape(std::move(dims));
  return true;
}

}  // namespace horn
