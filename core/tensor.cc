#include "core/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iomanip>
#include <iterator>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "core/bfloat16.h"
#include "core/memory_tuning.h"
#include "core/parallel.h"
#include "core/random.h"

namespace horn {
namespace {

// Recycles large buffers by exact size. A training step allocates the same shapes every
// time; without reuse each large buffer is a fresh mmap whose pages fault in (zeroed by
// the kernel) and are unmapped again, which cost more than the arithmetic.
class BufferPool {
 public:
  static BufferPool& instance() {
    static BufferPool* pool = new BufferPool;  // never destroyed: tensors may outlive statics
    return *pool;
  }
  uint8_t* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        uint8_t* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    return fresh(bytes);
  }
  static uint8_t* fresh(size_t bytes) {
    void* p = allocate_buffer_memory(bytes);
    if (!p) fail("Tensor: out of memory allocating ", bytes, " bytes");
    return static_cast<uint8_t*>(p);
  }
  void give(uint8_t* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + bytes <= limit_) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }
  // Frees cached buffers until at most `keep` bytes are left.
  void trim(size_t keep) {
    std::vector<uint8_t*> freed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = free_.begin(); it != free_.end() && cached_ > keep;) {
        while (!it->second.empty() && cached_ > keep) {
          freed.push_back(it->second.back());
          it->second.pop_back();
          cached_ -= it->first;
        }
        it = it->second.empty() ? free_.erase(it) : std::next(it);
      }
    }
    for (uint8_t* p : freed) std::free(p);  // outside the lock
  }
  void set_limit(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes;
    }
    trim(bytes);
  }
  size_t limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }
  size_t cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<uint8_t*>> free_;
  size_t cached_ = 0;
  size_t limit_ = size_t{512} << 20;
};

// Below this, malloc's own free lists are as fast as a pool.
constexpr size_t kPooledBytes = 16 * 1024;

std::shared_ptr<uint8_t> allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t rounded = buffer_memory_size(bytes);  // the pool's key: sizes it really holds
  if (rounded >= kPooledBytes) {
    uint8_t* p = BufferPool::instance().take(rounded);
    return std::shared_ptr<uint8_t>(p, [rounded](uint8_t* q) { BufferPool::instance().give(q, rounded); });
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) fail("Tensor: out of memory allocating ", bytes, " bytes");
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}

template <typename T>
void fill_with(Tensor& t, const std::function<double(int64_t)>& value_at) {
  T* d = t.data<T>();
  for (int64_t i = 0; i < t.size(); ++i) d[i] = static_cast<T>(value_at(i));
}

}  // namespace

void set_buffer_pool_limit(size_t bytes) { BufferPool::instance().set_limit(bytes); }
size_t buffer_pool_limit() { return BufferPool::instance().limit(); }
size_t buffer_pool_cached_bytes() { return BufferPool::instance().cached(); }
void release_buffer_pool() { BufferPool::instance().trim(0); }

Tensor::Tensor(DType dtype, const Shape& shape)
    : dtype_(dtype), shape_(shape), size_(shape.num_elements()), defined_(true) {
  if (!shape.is_fully_known()) fail("Tensor: shape ", shape, " has unknown dimensions");
  buffer_ = allocate(size_ * dtype_size(dtype));
}

Tensor Tensor::view(std::shared_ptr<uint8_t> storage, DType dtype, const Shape& shape) {
  if (!shape.is_fully_known()) fail("Tensor::view: shape ", shape, " has unknown dimensions");
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.size_ = shape.num_elements();
  t.defined_ = true;
  t.buffer_ = std::move(storage);
  return t;
}

Tensor Tensor::fill(DType dtype, const Shape& shape, double value) {
  Tensor t(dtype, shape);
  visit_dtype(dtype, [&](auto v) {
    using T = decltype(v);
    fill_with<T>(t, [&](int64_t) { return value; });
  });
  return t;
}
Tensor Tensor::zeros(DType dtype, const Shape& shape) { return fill(dtype, shape, 0.0); }
Tensor Tensor::ones(DType dtype, const Shape& shape) { return fill(dtype, shape, 1.0); }

Tensor Tensor::arange(DType dtype, int64_t n) {
  Tensor t(dtype, Shape{n});
  visit_dtype(dtype, [&](auto v) {
    using T = decltype(v);
    fill_with<T>(t, [](int64_t i) { return static_cast<double>(i); });
  });
  return t;
}

namespace {
// A float tensor whose element i is value_at(i).
Tensor random_tensor(const char* what, DType dtype, const Shape& shape, const std::function<double(int64_t)>& value_at) {
  if (!is_floating(dtype)) fail("Tensor::", what, ": dtype must be float32 or float64");
  Tensor t(dtype, shape);
  visit_dtype(dtype, [&](auto v) { fill_with<decltype(v)>(t, value_at); });
  return t;
}
}  // namespace

Tensor Tensor::uniform(DType dtype, const Shape& shape, double low, double high, uint64_t seed) {
  return random_tensor("uniform", dtype, shape,
                       [&](int64_t i) { return low + (high - low) * random::uniform01(seed, 0, i); });
}

Tensor Tensor::normal(DType dtype, const Shape& shape, double mean, double stddev, uint64_t seed) {
  return random_tensor("normal", dtype, shape, [&](int64_t i) { return mean + stddev * random::normal(seed, 0, i); });
}

Tensor Tensor::truncated_normal(DType dtype, const Shape& shape, double mean, double stddev, uint64_t seed) {
  return random_tensor("truncated_normal", dtype, shape, [&](int64_t i) {
    double z;
    uint64_t attempt = 0;  // a redraw of element i comes from the next counter: any order, same bits
    do z = random::normal(seed, attempt++, i); while (std::abs(z) > 2);
    return mean + stddev * z;
  });
}

int64_t Tensor::flat_index(std::initializer_list<int64_t> index) const {
  if (static_cast<int>(index.size()) != rank())
    fail("Tensor::at: ", index.size(), " indices for a tensor of rank ", rank());
  int64_t flat = 0, i = 0;
  for (int64_t ix : index) {
    if (ix < 0 || ix >= shape_.dim(i))
      fail("Tensor::at: index ", ix, " out of range for dimension ", i, " of ", shape_);
    flat = flat * shape_.dim(i) + ix;
    ++i;
  }
  return flat;
}

double Tensor::value_as_double(int64_t i) const {
  if (i < 0 || i >= size_) fail("Tensor: flat index ", i, " out of range for ", shape_);
  return visit_dtype(dtype_, [&](auto v) {
    using T = decltype(v);
    return static_cast<double>(reinterpret_cast<const T*>(buffer_.get())[i]);
  });
}

Tensor Tensor::copy() const {
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.buffer_.get(), buffer_.get(), nbytes());
  return t;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  if (!shape.is_fully_known() || shape.num_elements() != size_)
    fail("Tensor::reshaped: cannot view ", shape_, " (", size_, " elements) as ", shape);
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  if (rank() == 0 || begin < 0 || end < begin || end > dim(0))
    fail("Tensor::slice_rows: rows [", begin, ", ", end, ") out of range for ", shape_);
  std::vector<int64_t> dims = shape_.dims();
  dims[0] = end - begin;
  Tensor t(dtype_, Shape(dims));
  const size_t row_bytes = dim(0) ? nbytes() / dim(0) : 0;
  if (t.nbytes()) std::memcpy(t.buffer_.get(), buffer_.get() + begin * row_bytes, t.nbytes());
  return t;
}

Tensor Tensor::gather_rows(std::span<const int64_t> rows) const {
  if (rank() == 0) fail("Tensor::gather_rows: a scalar has no rows");
  std::vector<int64_t> dims = shape_.dims();
  dims[0] = static_cast<int64_t>(rows.size());
  Tensor t(dtype_, Shape(dims));
  const size_t row_bytes = dim(0) ? nbytes() / dim(0) : 0;
  for (int64_t r : rows)
    if (r < 0 || r >= dim(0)) fail("Tensor::gather_rows: row ", r, " out of range for ", shape_);
  // Shuffled mini-batches read rows scattered over a data set larger than the caches: asking
  // for a few rows ahead keeps several of them in flight instead of one miss at a time.
  constexpr size_t kRowsAhead = 4;
  auto prefetch_row = [&](size_t r) {
    const uint8_t* p = buffer_.get() + rows[r] * row_bytes;
    for (size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(p + b);
  };
  for (size_t r = 0; r < std::min(kRowsAhead, rows.size()); ++r) prefetch_row(r);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r + kRowsAhead < rows.size()) prefetch_row(r + kRowsAhead);
    std::memcpy(t.buffer_.get() + r * row_bytes, buffer_.get() + rows[r] * row_bytes, row_bytes);
  }
  return t;
}

Tensor Tensor::cast(DType to) const {
  Tensor t(to, shape_);
  cast_into(t);
  return t;
}

void Tensor::cast_into(Tensor& out) const {
  if (out.shape_ != shape_) fail("Tensor::cast_into: output shape ", out.shape_, " differs from input shape ", shape_);
  // Elementwise, so splitting into blocks (in a Session: on its threads) changes no bits.
  if (dtype_ == DType::kFloat32 && out.dtype_ == DType::kBFloat16) {  // the mixed_bfloat16 casts: vectorised
    const float* src = reinterpret_cast<const float*>(buffer_.get());
    uint16_t* dst = reinterpret_cast<uint16_t*>(out.buffer_.get());
    parallel_blocks(size_, kElementwiseBlock, [&](int64_t b, int64_t e) {
      bfloat16_bits(src + b, e - b, dst + b);
    });
    return;
  }
  visit_dtype(dtype_, [&](auto a) {
    using From = decltype(a);
    visit_dtype(out.dtype_, [&](auto b) {
      using To = decltype(b);
      const From* src = reinterpret_cast<const From*>(buffer_.get());
      To* dst = reinterpret_cast<To*>(out.buffer_.get());
      parallel_blocks(size_, kElementwiseBlock, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) dst[i] = static_cast<To>(src[i]);
      });
    });
  });
}

bool Tensor::bitwise_equal(const Tensor& o) const {
  return dtype_ == o.dtype_ && shape_ == o.shape_ &&
         (nbytes() == 0 || std::memcmp(buffer_.get(), o.buffer_.get(), nbytes()) == 0);
}

std::string Tensor::to_string(int max_per_dim) const {
  std::ostringstream os;
  os << std::setprecision(6);
  std::vector<int64_t> strides(rank(), 1);
  for (int i = rank() - 2; i >= 0; --i) strides[i] = strides[i + 1] * dim(i + 1);
  std::function<void(int, int64_t)> print = [&](int axis, int64_t offset) {
    if (axis == rank()) {
      if (dtype_ == DType::kBool) os << (value_as_double(offset) ? "true" : "false");
      else os << value_as_double(offset);
      return;
    }
    os << "[";
    const int64_t n = dim(axis);
    for (int64_t i = 0; i < n; ++i) {
      if (n > max_per_dim && i == max_per_dim / 2) {
        os << "...";
        i = n - max_per_dim / 2 - 1;
        if (i + 1 < n) os << (axis + 1 == rank() ? ", " : ",\n" + std::string(axis + 1, ' '));
        continue;
      }
      print(axis + 1, offset + i * strides[axis]);
      if (i + 1 < n) os << (axis + 1 == rank() ? ", " : ",\n" + std::string(axis + 1, ' '));
    }
    os << "]";
  };
  print(0, 0);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace horn
