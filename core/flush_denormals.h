// Flush-to-zero (FTZ) and denormals-are-zero (DAZ): the two MXCSR bits that make SSE/AVX
// arithmetic treat subnormal floats as zero. Subnormal operands and results take a
// microcode assist that costs ~100 cycles each; a ReLU + RMSprop model accumulates them in
// its weights and slows down by its late epochs (bench/README.md has the measurement).
//
// Horn sets the bits in every thread that runs its kernels, for the duration of the run
// only (SessionOptions::flush_denormals; on by default, as TensorFlow does in its executor
// threads). The caller's MXCSR is saved and restored, so user code keeps its own mode.
#pragma once
#include <cstdint>

#include <oneapi/tbb/task_arena.h>

namespace horn {

// The MXCSR bits, or 0 on machines without SSE (where this file changes nothing).
inline constexpr uint32_t kMxcsrFlushToZero = 0x8000;
inline constexpr uint32_t kMxcsrDenormalsAreZero = 0x0040;
inline constexpr uint32_t kMxcsrStatusFlags = 0x003f;  // sticky exception flags, not modes
uint32_t read_mxcsr();
void write_mxcsr(uint32_t value);

// Sets FTZ and DAZ (flush = true) or clears them (flush = false: IEEE gradual underflow) in
// the calling thread until destroyed, then restores the thread's previous control bits. Both
// settings are explicit so that the caller's thread and the workers agree.
class ScopedDenormalMode {
 public:
  explicit ScopedDenormalMode(bool flush);
  ~ScopedDenormalMode();
  ScopedDenormalMode(const ScopedDenormalMode&) = delete;
  ScopedDenormalMode& operator=(const ScopedDenormalMode&) = delete;

 private:
  uint32_t saved_;
};

// Initialises `arena` (the first call; later ones do nothing, and concurrent ones are safe)
// so that its tasks, on oneTBB's workers and on threads that join it, run in the given
// denormal mode. oneTBB captures the floating-point settings (MXCSR) of the thread that
// initialises an arena and applies them to every task of the arena, restoring each thread's
// own afterwards (oneTBB guide, "Floating-point Settings"); a scheduler observer that sets
// MXCSR on entry would be overridden by exactly that mechanism. Call it right before the
// first execute, where oneTBB would initialise the arena itself: a Session that never runs
// never makes one.
void initialize_with_denormal_mode(tbb::task_arena& arena, bool flush);

}  // namespace horn
