// Counter-based random numbers: value i of stream (seed, counter) is a pure function of
// those three numbers, so any split of the work over threads gives the same bits.
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace horn::random {

inline uint64_t mix64(uint64_t z) {  // splitmix64's finaliser
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The part of a value that depends on (seed, counter) only: loops over i compute it once and
// call the *_at forms, which then vectorise.
inline uint64_t stream_key(uint64_t seed, uint64_t counter) { return mix64(seed ^ mix64(counter)); }

inline uint64_t bits_at(uint64_t key, uint64_t i) { return mix64(key + i); }
inline uint64_t bits(uint64_t seed, uint64_t counter, uint64_t i) { return bits_at(stream_key(seed, counter), i); }

// Uniform in [0, 1) with 53 random bits.
inline double uniform01_at(uint64_t key, uint64_t i) { return static_cast<double>(bits_at(key, i) >> 11) * 0x1.0p-53; }
inline double uniform01(uint64_t seed, uint64_t counter, uint64_t i) {
  return uniform01_at(stream_key(seed, counter), i);
}

// Standard normal by Box-Muller on two uniforms of the same index.
inline double normal(uint64_t seed, uint64_t counter, uint64_t i) {
  const double u1 = 1.0 - uniform01(seed, counter, 2 * i);  // (0, 1]: log is finite
  const double u2 = uniform01(seed, counter, 2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// 0..n-1 in the order of a Fisher-Yates shuffle drawn from stream (seed, counter): the same
// order for the same arguments on any machine and thread count.
inline std::vector<int64_t> permutation(int64_t n, uint64_t seed, uint64_t counter) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(bits(seed, counter, i) % (i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace horn::random
