// Process-wide memory settings. They are not per Session because what they tune is not:
// glibc's allocator and Horn's pool of tensor buffers serve the whole process.
//
//   int main() {
//     horn::set_keep_freed_memory(true);  // a training program: keep freed memory
//     ...
//     horn::release_buffer_pool();        // done with tensors for now: hand memory back
//   }
#pragma once
#include <cstddef>

namespace horn {

// glibc returns large freed blocks (Eigen's GEMM packing buffers among them) to the OS
// between training steps, and every step then pays page faults for them again: at MNIST
// sizes they cost more than the arithmetic. On: keep freed memory in the process (mallopt:
// mmap threshold 32 MB, trim threshold 512 MB). Off: glibc's initial thresholds (128 KB;
// glibc's dynamic raising of the mmap threshold stays off once it was set). Off by
// default; the examples and benchmarks turn it on. It changes speed, never results.
void set_keep_freed_memory(bool keep);

// Tensor buffers of 16 KB and more are recycled by exact size: a training step allocates
// the same shapes every time. Buffers of 16 MB and more (data sets) are rounded up to whole
// 2 MB pages and advised to use transparent huge pages (MADV_HUGEPAGE): shuffled mini-batches
// gather scattered rows from them, and with 4 KB pages each row was a TLB miss. The pool keeps at most `bytes` of free buffers (default
// 512 MB); lowering the limit frees what is above it.
void set_buffer_pool_limit(size_t bytes);
size_t buffer_pool_limit();
// Bytes of free buffers the pool holds now.
size_t buffer_pool_cached_bytes();
// Frees every buffer the pool holds (buffers still used by tensors are not affected).
void release_buffer_pool();

}  // namespace horn
