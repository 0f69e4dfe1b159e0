#include "ops/onednn_gemm.h"

#include <omp.h>

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

template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, float* c, int64_t ldc, memory::data_type t) {
  HORN_ASSERT(a.cols == b.rows && a.cols > 0, "onednn gemm: inner dimensions ", a.cols, " and ", b.rows);
  const SingleOpenMPThread one_thread;
  const memory::desc a_md = view_desc(a.rows, a.cols, a.row_stride, a.col_stride, t);
  const memory::desc b_md = view_desc(b.rows, b.cols, b.row_stride, b.col_stride, t);
  const memory::desc c_md = view_desc(a.rows, b.cols, ldc, 1, memory::data_type::f32);
  // oneDNN's primitive cache (1024 entries by default) makes a repeated shape a lookup.
  const dnnl::matmul product = make_product(a_md, b_md, c_md);
  dnnl::engine& engine = cpu_engine();
  memory a_mem(a_md, engine, const_cast<T*>(a.data));
  memory b_mem(b_md, engine, const_cast<T*>(b.data));
  memory c_mem(c_md, engine, c);
  dnnl::stream stream(engine);
  product.execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
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
