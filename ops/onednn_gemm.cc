#include "ops/onednn_gemm.h"

#include <omp.h>

#include <array>
#include <cstdlib>
#include <map>
#include <type_traits>

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
constexpr memory::data_type data_type_of() {
  return std::is_same_v<T, float> ? memory::data_type::f32 : memory::data_type::bf16;
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

// B's layout in a cache key: its strides, or {kPackedB, panel rows} for a packed B (its
// blocked descriptor depends only on its shape, its type and the panel rows).
struct BLayout {
  int64_t first, second;
};
constexpr int64_t kPackedB = -1;

// The product of A's layout times a B of `n` columns in `b_layout` (b_desc() makes its
// descriptor, only on a miss: descriptors are what a hit saves), into C of row stride ldc.
template <typename T, typename BDesc>
CachedProduct& cached_product(const MatrixView<T>& a, int64_t n, BLayout b_layout, int64_t ldc, BDesc&& b_desc) {
  using Key = std::array<int64_t, 8>;  // per operand type T: a template's own cache
  thread_local std::map<Key, CachedProduct> cache;
  const Key key{a.rows, a.cols, a.row_stride, a.col_stride, n, b_layout.first, b_layout.second, ldc};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= 256) cache.clear();  // a bound for programs whose shapes keep changing
  const memory::desc a_md = view_desc(a.rows, a.cols, a.row_stride, a.col_stride, data_type_of<T>());
  const memory::desc b_md = b_desc();
  const memory::desc c_md = view_desc(a.rows, n, ldc, 1, memory::data_type::f32);
  dnnl::engine& engine = cpu_engine();
  CachedProduct made{make_product(a_md, b_md, c_md), memory(a_md, engine, DNNL_MEMORY_NONE),
                     memory(b_md, engine, DNNL_MEMORY_NONE), memory(c_md, engine, DNNL_MEMORY_NONE)};
  return cache.emplace(key, std::move(made)).first->second;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

// Runs `p` on this thread. Callers hold a SingleOpenMPThread from before the product is
// made, not only while it runs: oneDNN sizes a primitive's blocking by the thread count it
// sees when the primitive is made (made for two threads, a 100x500x784 product with B^T ran
// ~15% slower on the one it gets).
void execute(CachedProduct& p, const void* a, const void* b, float* c) {
  p.a.set_data_handle(const_cast<void*>(a));
  p.b.set_data_handle(const_cast<void*>(b));
  p.c.set_data_handle(c);
  dnnl::stream& stream = thread_stream();
  p.product.execute(stream, {{DNNL_ARG_SRC, p.a}, {DNNL_ARG_WEIGHTS, p.b}, {DNNL_ARG_DST, p.c}});
  stream.wait();
}

template <typename T>
void gemm(const MatrixView<T>& a, const MatrixView<T>& b, float* c, int64_t ldc) {
  HORN_ASSERT(a.cols == b.rows && a.cols > 0, "onednn gemm: inner dimensions ", a.cols, " and ", b.rows);
  const SingleOpenMPThread one_thread;
  CachedProduct& p = cached_product(a, b.cols, {b.row_stride, b.col_stride}, ldc, [&] {
    return view_desc(b.rows, b.cols, b.row_stride, b.col_stride, data_type_of<T>());
  });
  execute(p, a.data, b.data, c);
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

void onednn_bf16_gemm(const BFloat16View& a, const BFloat16View& b, float* c, int64_t ldc) { gemm(a, b, c, ldc); }

void onednn_f32_gemm(const Float32View& a, const Float32View& b, float* c, int64_t ldc) { gemm(a, b, c, ldc); }

template <typename T>
struct OneDnnPackedB<T>::Packed {
  MatrixView<T> plain;  // for a panel that oneDNN would not run from the packed layout
  int64_t panel_rows;
  memory::desc desc;
  std::unique_ptr<void, decltype(&std::free)> data{nullptr, &std::free};
};

template <typename T>
OneDnnPackedB<T>::OneDnnPackedB(const MatrixView<T>& b, int64_t panel_rows) : packed_(std::make_unique<Packed>()) {
  HORN_ASSERT(b.rows > 0 && b.cols > 0 && panel_rows > 0, "onednn packed B: ", b.rows, "x", b.cols, " for ",
              panel_rows, "-row panels");
  constexpr memory::data_type t = data_type_of<T>();
  Packed& p = *packed_;
  const SingleOpenMPThread one_thread;  // for the layout query and the reorder
  p.plain = b;
  p.panel_rows = panel_rows;
  // The layout that the product of a panel_rows-row, row-major A would choose for B.
  const memory::desc any({b.rows, b.cols}, t, memory::format_tag::any);
  const dnnl::matmul::primitive_desc product(
      dnnl::matmul::desc(view_desc(panel_rows, b.rows, b.rows, 1, t), any,
                         view_desc(panel_rows, b.cols, b.cols, 1, memory::data_type::f32)),
      cpu_engine());
  p.desc = product.weights_desc();
  p.data.reset(std::aligned_alloc(64, (p.desc.get_size() + 63) / 64 * 64));
  if (!p.data) fail("out of memory for a packed ", b.rows, "x", b.cols, " GEMM operand");
  memory from(view_desc(b.rows, b.cols, b.row_stride, b.col_stride, t), cpu_engine(), const_cast<T*>(b.data));
  memory to(p.desc, cpu_engine(), p.data.get());
  dnnl::stream& stream = thread_stream();
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
}

template <typename T>
OneDnnPackedB<T>::~OneDnnPackedB() = default;

template <typename T>
void OneDnnPackedB<T>::gemm(const MatrixView<T>& a, float* c, int64_t ldc) const {
  const Packed& p = *packed_;
  HORN_ASSERT(a.cols == p.plain.rows, "onednn gemm: inner dimensions ", a.cols, " and ", p.plain.rows);
  const SingleOpenMPThread one_thread;
  CachedProduct* product = nullptr;
  try {
    product = &cached_product(a, p.plain.cols, {kPackedB, p.panel_rows}, ldc, [&] { return p.desc; });
  } catch (const dnnl::error&) {
    // Every row count ran from the packed layout on the CPUs measured (brgemm, float32 and
    // bfloat16); should another refuse one, that panel reads the plain B.
    kernels::gemm(a, p.plain, c, ldc);
    return;
  }
  execute(*product, a.data, p.data.get(), c);
}

template class OneDnnPackedB<float>;
template class OneDnnPackedB<bfloat16>;

}  // namespace horn::kernels
