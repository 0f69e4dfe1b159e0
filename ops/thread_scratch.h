// Per-thread scratch buffers for kernels that need temporary space on every call.
#pragma once
#include <cstdint>
#include <cstdlib>

#include "core/errors.h"

namespace horn::kernels {

// Per-thread 64-byte-aligned scratch of at least `elements` values, kept for the thread's
// life. Kernels that hold two at once (a GEMM panel while the fused program runs on it) use
// different slots. A slot is per value type too, so two buffers of the same type need two
// slots (a product's transposed operand and its transposed result: kOperand and kResult).
enum class ScratchSlot { kProgram, kPanel, kReduction, kOperand, kResult };
template <typename T, ScratchSlot kSlot>
T* thread_scratch(int64_t elements) {
  struct Buffer {
    T* data = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer b;
  if (b.size < elements) {
    std::free(b.data);
    b.data = static_cast<T*>(std::aligned_alloc(64, (elements * sizeof(T) + 63) / 64 * 64));
    if (!b.data) fail("out of memory for ", elements, " values of kernel scratch");
    b.size = elements;
  }
  return b.data;
}

}  // namespace horn::kernels
