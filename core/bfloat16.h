// The definition of horn::bfloat16 (Eigen::bfloat16), for code that visits dtypes or reads
// bfloat16 values. Conversion from float rounds to nearest even (NaN stays NaN); to float is
// exact.
#pragma once
#include <Eigen/Core>
#include <bit>
#include <cstdint>

#include "core/dtype.h"

static_assert(sizeof(horn::bfloat16) == 2, "bfloat16 is stored as 16 bits");

namespace horn {

// The bits of bfloat16(x), as Eigen rounds (to nearest even; NaN to a quiet NaN of x's sign),
// without branches: loops over arrays of it vectorise, where Eigen's scalar conversion does not.
inline uint16_t bfloat16_bits(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const uint32_t nan = ((u >> 16) & 0x8000u) | 0x7fc0u;
  return static_cast<uint16_t>(x != x ? nan : rounded);
}

// bits[i] = bfloat16_bits(x[i]) for i < n: the float32 -> bfloat16 cast of an array, shared by
// Tensor::cast_into and the fused programs' bfloat16 copies (their bits must agree).
inline void bfloat16_bits(const float* x, int64_t n, uint16_t* bits) {
  for (int64_t i = 0; i < n; ++i) bits[i] = bfloat16_bits(x[i]);
}

// float(bfloat16(x)).
inline float round_to_bfloat16(float x) { return std::bit_cast<float>(uint32_t{bfloat16_bits(x)} << 16); }

}  // namespace horn
