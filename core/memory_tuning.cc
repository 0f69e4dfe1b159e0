#include "core/memory_tuning.h"

#include <malloc.h>

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

}  // namespace horn
