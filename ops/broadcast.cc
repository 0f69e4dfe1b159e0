#include "ops/broadcast.h"

namespace horn::kernels {

std::vector<int64_t> broadcast_strides(const Shape& operand, const Shape& out) {
  const int rank = out.rank(), offset = out.rank() - operand.rank();
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (int d = operand.rank() - 1; d >= 0; --d) {
    strides[d + offset] = operand.dim(d) == 1 ? 0 : stride;
    stride *= operand.dim(d);
  }
  return strides;
}

}  // namespace horn::kernels
