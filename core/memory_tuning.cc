#include "core/memory_tuning.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdlib>

#include <mutex>

namespace horn {

void set_keep_freed_memory(bool keep) {
  static std::mutex mutex;  // two callers must not interleave the two settings
  std::lock_guard<std::mutex> lock(mutex);
  if (keep) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  } else {
    mallopt(M_MMAP_THRESHOLD, 128 << 10);  // glibc's defaults
    mallopt(M_TRIM_THRESHOLD, 128 << 10);
  }
}

namespace {
constexpr size_t kHugePage = size_t{2} << 20;         // x86-64's transparent huge page
constexpr size_t kHugePageBuffer = size_t{16} << 20;  // from here on a buffer gets them
}  // namespace

size_t buffer_memory_size(size_t bytes) {
  return bytes >= kHugePageBuffer ? (bytes + kHugePage - 1) / kHugePage * kHugePage : (bytes + 63) / 64 * 64;
}

void* allocate_buffer_memory(size_t bytes) {
  const size_t size = buffer_memory_size(bytes);
  const bool huge = bytes >= kHugePageBuffer;
  void* p = std::aligned_alloc(huge ? kHugePage : 64, size);
  if (p && huge) madvise(p, size, MADV_HUGEPAGE);  // advice only: without THP nothing changes
  return p;
}

}  // namespace horn
