// Parallel loops over fixed-size blocks. The blocks depend only on the problem size, never
// on the number of threads, so every block computes the same bits whichever thread runs it
// and results are identical for any thread count.
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/tsan_handoff.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

namespace horn {

// Elements per block for streaming elementwise kernels: large enough that a task (~2 us to
// hand to another thread) pays off, so small ops such as a [100,500] bias add stay on one
// thread; a multiple of 16 so that SIMD bodies and tails fall at the same places.
inline constexpr int64_t kElementwiseBlock = 1 << 16;

// Elementwise kernels compute in whole packets of this many elements (AVX-512: 16 floats,
// 8 doubles), padding ragged tails, so every element takes the same SIMD code path.
inline constexpr int64_t kSimdWidth = 16;

// Calls fn(begin, end) for consecutive blocks of `block` items covering [0, n).
template <typename Fn>
void parallel_blocks(int64_t n, int64_t block, Fn&& fn) {
  if (n <= 0) return;
  const int64_t num_blocks = (n + block - 1) / block;
  if (num_blocks == 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int done = 0;  // ThreadSanitizer builds: the caller sees what the blocks did
  then_acquire(&done, [&] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, num_blocks, 1),
        hand_off(
            [&](const tbb::blocked_range<int64_t>& r) {
              for (int64_t b = r.begin(); b != r.end(); ++b) fn(b * block, std::min(n, (b + 1) * block));
            },
            &done),
        tbb::simple_partitioner());
  });
}

}  // namespace horn
