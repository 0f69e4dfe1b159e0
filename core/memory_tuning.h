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

// 64-byte-aligned memory for tensor buffers and a plan's arenas; release it with std::free.
// From 16 MB on it is whole 2 MB pages (the size rounded up, at most 1/8 more) advised to use
// transparent huge pages (MADV_HUGEPAGE): one TLB entry per 2 MB instead of 512. In a virtual
// machine every TLB miss is a nested page walk: shuffled mini-batches gathered from a data
// set, and a convolutional network's step sweeping its 90 MB arena, missed on most accesses.
// Null if out of memory.
void* allocate_buffer_memory(size_t bytes);
// The bytes allocate_buffer_memory actually reserves for a request of `bytes`.
size_t buffer_memory_size(size_t bytes);

// Tensor buffers of 16 KB and more are recycled by exact size: a training step allocates
// the same shapes every time. The pool keeps at most `bytes` of free buffers (default
// 512 MB); lowering the limit frees what is above it.
void set_buffer_pool_limit(size_t bytes);
size_t buffer_pool_limit();
// Bytes of free buffers the pool holds now.
size_t buffer_pool_cached_bytes();
// Frees every buffer the pool holds (buffers still used by tensors are not affected).
void release_buffer_pool();

}  // namespace horn
