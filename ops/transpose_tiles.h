// A matrix transpose through registers: for the GEMM operands that oneDNN needs with
// contiguous rows (a transposed A in MatMul, dY^T in the convolution filter gradient), and the
// filter gradient's dW^T result turned back into dW.
#pragma once
#include <Eigen/Core>
#include <cstdint>

// Eigen's packet types carry vector attributes that g++ drops, with a warning, when they are
// template arguments (PacketBlock<Packet, n>); nothing depends on those attributes here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"

namespace horn::kernels {

// out[c * out_stride + r] = in[r * in_stride + c] for r < rows, c < cols. Whole N x N tiles
// (N: the SIMD packet's length, 16 floats or bfloat16 values with AVX-512) go through
// registers with Eigen's packet transpose, a column of tiles at a time so that the stores fill
// N rows of `out` front to back. The ragged edges, and builds without a packet type for T,
// move one value at a time. Both users had a scalar loop: ~5% of mnist_cnn's mixed_bfloat16
// step went to transposing the filter gradient's dY (bench/README.md, issue 13, seventh part),
// ~2.5% of the seed model's float32 step to MatMul's A^T copy (eighth part).
template <typename T>
void transpose_tiles(const T* in, int64_t rows, int64_t cols, int64_t in_stride, T* out, int64_t out_stride) {
  using Packet = typename Eigen::internal::packet_traits<T>::type;
  constexpr int64_t n = Eigen::internal::unpacket_traits<Packet>::size;
  int64_t tiled_rows = 0, tiled_cols = 0;
  if constexpr (n > 1) {
    tiled_rows = rows / n * n;
    tiled_cols = cols / n * n;
    Eigen::internal::PacketBlock<Packet, n> tile;
    for (int64_t c0 = 0; c0 < tiled_cols; c0 += n)
      for (int64_t r0 = 0; r0 < tiled_rows; r0 += n) {
        for (int64_t i = 0; i < n; ++i) tile.packet[i] = Eigen::internal::ploadu<Packet>(in + (r0 + i) * in_stride + c0);
        Eigen::internal::ptranspose(tile);
        for (int64_t i = 0; i < n; ++i) Eigen::internal::pstoreu(out + (c0 + i) * out_stride + r0, tile.packet[i]);
      }
  }
  for (int64_t r = 0; r < rows; ++r)  // the edges: rows below the tiles, columns right of them
    for (int64_t c = r < tiled_rows ? tiled_cols : 0; c < cols; ++c) out[c * out_stride + r] = in[r * in_stride + c];
}

}  // namespace horn::kernels

#pragma GCC diagnostic pop
