#include "ops/onednn_gemm.h"

#include <omp.h>

#include <array>
#include <map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/errors.h"

namespace horn::kernels {
namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::desc view_desc(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride, memory::data_type t) {
  return memory::desc({rows, cols}, t, memory::dims{row_stride, col_stride});
}

// omp_set_num_threads(1) on this thread for the scope: oneDNN then runs on it alone.
class SingleOpenMPThread {
 public:
  SingleOpenMPThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleOpenMPThread() { omp_set_num_threads(saved_); }
  SingleOpenMPThread(const SingleOpenMPThread&) = delete;
  SingleOpenMPThread& operator=(const SingleOpenMPThread&) = delete;

 private:
  int saved_;
};

dnnl::matmul make_product(const memory::desc& a, const memory::desc& b, const memory::desc& c) {
  return dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), cpu_engine()));
}

// The probe: a small product of operands of type `t`, which throws where oneDNN cannot run it.
bool can_multiply(memory::data_type t) {
  try {
    make_product(view_desc(16, 32, 32, 1, t), view_desc(32, 16, 16, 1, t),
                 view_desc(16, 16, 16, 1, memory::data_type::f32));
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

// A product for one set of operand layouts, with its memory objects (their data handles are
// set per call) and this thread's stream. Made once per thread and layout: oneDNN's
// primitive cache holds primitives, not primitive descriptors, and creating the descriptor
// walks its implementation list on every call (~3.6% of a whole mixed_bfloat16 training run
// of the seed model went there). Per thread, so no lock: a product runs on one thread.
struct CachedProduct {
  dnnl::matmul product;
  memory a, b, c;
};

template <typename T>
CachedProduct& cached_product(const MatrixView<T>& a, const MatrixView<T>& b, int64_t ldc, memory::data_type t) {
  using Key = std::array<int64_t, 9>;  // b.rows is a.cols
  thread_local std::map<Key, CachedProduct> cache;
  const Key key{a.rows, a.cols, a.row_stride, a.col_stride, b.cols, b.row_stride, b.col_stride, ldc, int64_t(t)};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= 256) cache.clear();  // a bound for programs whose shapes keep changing
  // Descriptors only on a miss: they are what a cache hit saves.
  const memory::desc a_md = view_desc(a.rows, a.cols, a.row_stride, a.col_stride, t);
  const memory::desc b_md = view_desc(b.rows, b.cols, b.row_stride, b.col_stride, t);
  const memory::desc c_md = view_desc(a.rows, b.cols, ldc, 1, memory::data_type::f32);
  dnnl::engine& engine = cpu_engine();
  CachedProduct made{make_product(a_md, b_md, c_md), memory(a_md, engine, DNNL_MEMORY_NONE),
                     memory(b_md, engine, DNNL_MEMORY_NONE), memory(c_md, engine, DNNL_MEMORY_NONE)};
  return cache.emplace(key, std::move(made)).first->second;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, float* c, int64_t ldc, memory::data_type t) {
  HORN_ASSERT(a.cols == b.rows && a.cols > 0, "onednn gemm: inner dimensions ", a.cols, " and ", b.rows);
  // From before the product is made, not only while it runs: oneDNN sizes a primitive's
  // blocking by the thread count it sees when the primitive is made (made for two threads, a
  // 100x500x784 product with B^T ran ~15% slower on the one it gets).
  const SingleOpenMPThread one_thread;
  CachedProduct& p = cached_product(a, b, ldc, t);
  p.a.set_data_handle(const_cast<T*>(a.data));
  p.b.set_data_handle(const_cast<T*>(b.data));
  p.c.set_data_handle(c);
  dnnl::stream& stream = thread_stream();
  p.product.execute(stream, {{DNNL_ARG_SRC, p.a}, {DNNL_ARG_WEIGHTS, p.b}, {DNNL_ARG_DST, p.c}});
  stream.wait();
}

}  // namespace

bool onednn_bf16_gemm_available() {
  static const bool available = can_multiply(memory::data_type::bf16);
  return available;
}

bool onednn_f32_gemm_available() {
  static const bool available = can_multiply(memory::data_type::f32);
  return available;
}

void onednn_bf16_gemm(const BFloat16View& a, const BFloat16View& b, float* c, int64_t ldc) {
  gemm(a, b, c, ldc, memory::data_type::bf16);
}

void onednn_f32_gemm(const Float32View& a, const Float32View& b, float* c, int64_t ldc) {
  gemm(a, b, c, ldc, memory::data_type::f32);
}

}  // namespace horn::kernels
