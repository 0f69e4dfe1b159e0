#include "core/flush_denormals.h"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HORN_HAS_MXCSR 1
#endif

namespace horn {
namespace {

uint32_t with_mode(uint32_t mxcsr, bool flush) {
  const uint32_t bits = kMxcsrFlushToZero | kMxcsrDenormalsAreZero;
  return flush ? (mxcsr | bits) : (mxcsr & ~bits);
}

}  // namespace

#ifdef HORN_HAS_MXCSR
uint32_t read_mxcsr() { return _mm_getcsr(); }
void write_mxcsr(uint32_t value) { _mm_setcsr(value); }
#else
uint32_t read_mxcsr() { return 0; }
void write_mxcsr(uint32_t) {}
#endif

ScopedDenormalMode::ScopedDenormalMode(bool flush) : saved_(read_mxcsr()) {
  write_mxcsr(with_mode(saved_, flush));
}

// The status flags (bits 0-5: underflow, denormal seen, ...) raised meanwhile stay raised,
// as they would in user code; the control bits go back to the caller's.
ScopedDenormalMode::~ScopedDenormalMode() {
  write_mxcsr((read_mxcsr() & kMxcsrStatusFlags) | (saved_ & ~kMxcsrStatusFlags));
}

void initialize_with_denormal_mode(tbb::task_arena& arena, bool flush) {
  if (arena.is_active()) return;
  const ScopedDenormalMode mode(flush);
  arena.initialize();  // captures this thread's MXCSR for all the arena's tasks
}

}  // namespace horn
