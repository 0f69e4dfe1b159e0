// Pad (zeros around a tensor) and Slice (a box out of one): each is the other's gradient.
//   Pad: attribute "paddings", two numbers per axis (before, after).
//   Slice: attributes "begin" and "size" per axis; a size of -1 means "to the end" (a batch
//   whose size is known only at run time).
#include <algorithm>
#include <cstring>

#include "ops/kernel_util.h"
#include "ops/ops.h"
#include "ops/shape_fns.h"

namespace horn::ops {
namespace {

using Grads = std::vector<Output>;

// Copies the box of `small` (shape s) that sits at `offset` inside `big` (shape b): from big
// to small when `into_small`, else the other way. Rows of the last axis are copied whole.
void copy_box(const Tensor& from, Tensor& to, const std::vector<int64_t>& offset, bool into_small) {
  const Shape& big = into_small ? from.shape() : to.shape();
  const Shape& small = into_small ? to.shape() : from.shape();
  const int rank = small.rank();
  const size_t bytes = dtype_size(from.dtype());
  if (small.num_elements() == 0) return;
  const int64_t row = rank ? small.dim(rank - 1) : 1;
  const int64_t rows = small.num_elements() / row;
  const auto* src = static_cast<const uint8_t*>(from.raw_data());
  auto* dst = static_cast<uint8_t*>(to.raw_data());
  parallel_blocks(rows, std::max<int64_t>(1, kElementwiseBlock / std::max<int64_t>(row, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, big_at = rank ? offset[rank - 1] : 0, stride = rank ? big.dim(rank - 1) : 1;
      for (int d = rank - 2; d >= 0; --d) {
        big_at += (rem % small.dim(d) + offset[d]) * stride;
        rem /= small.dim(d);
        stride *= big.dim(d);
      }
      const int64_t small_at = r * row;
      if (into_small) std::memcpy(dst + small_at * bytes, src + big_at * bytes, row * bytes);
      else std::memcpy(dst + big_at * bytes, src + small_at * bytes, row * bytes);
    }
  });
}

std::vector<int64_t> befores(const std::vector<int64_t>& paddings) {
  std::vector<int64_t> b;
  for (size_t i = 0; i < paddings.size(); i += 2) b.push_back(paddings[i]);
  return b;
}

// The slice's size with every -1 resolved against `in`.
Shape slice_shape(const Shape& in, const std::vector<int64_t>& begin, const std::vector<int64_t>& size) {
  std::vector<int64_t> dims;
  for (int d = 0; d < in.rank(); ++d) dims.push_back(size[d] >= 0 ? size[d] : in.dim(d) < 0 ? -1 : in.dim(d) - begin[d]);
  return Shape(dims);
}

HORN_REGISTER_OP({
    .name = "Pad", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) {
      const Shape& in = c.input_shapes[0];
      const std::vector<int64_t>& p = c.attrs().get<std::vector<int64_t>>("paddings");
      if (static_cast<int>(p.size()) != 2 * in.rank())
        c.error("needs two paddings (before, after) per axis of ", in, ", got ", p.size(), " numbers");
      std::vector<int64_t> dims;
      for (int d = 0; d < in.rank(); ++d) {
        if (p[2 * d] < 0 || p[2 * d + 1] < 0) c.error("paddings must be >= 0, got ", Shape(p));
        dims.push_back(in.dim(d) < 0 ? -1 : in.dim(d) + p[2 * d] + p[2 * d + 1]);
      }
      c.set_output(c.input_dtypes[0], Shape(dims));
    },
    .kernel = [](KernelContext& k) {
      if (k.output().nbytes()) std::memset(k.output().raw_data(), 0, k.output().nbytes());
      copy_box(k.input(0), k.output(), befores(k.attrs().get<std::vector<int64_t>>("paddings")), false);
    },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      const std::vector<int64_t> begin = befores(n.attrs.get<std::vector<int64_t>>("paddings"));
      std::vector<int64_t> size = n.inputs[0].shape().dims();  // -1 where unknown: to the end, less the padding after
      const std::vector<int64_t>& p = n.attrs.get<std::vector<int64_t>>("paddings");
      for (size_t d = 0; d < size.size(); ++d)
        if (size[d] < 0 && p[2 * d + 1] != 0) fail("Pad '", n.name, "': cannot take the gradient of padding after an unknown dimension");
      return {Slice(g[0], begin, size)};
    },
});

HORN_REGISTER_OP({
    .name = "Slice", .num_inputs = 1,
    .shape_fn = [](ShapeContext& c) {
      const Shape& in = c.input_shapes[0];
      const std::vector<int64_t>& begin = c.attrs().get<std::vector<int64_t>>("begin");
      const std::vector<int64_t>& size = c.attrs().get<std::vector<int64_t>>("size");
      if (static_cast<int>(begin.size()) != in.rank() || static_cast<int>(size.size()) != in.rank())
        c.error("needs a begin and a size per axis of ", in, ", got ", begin.size(), " and ", size.size());
      for (int d = 0; d < in.rank(); ++d) {
        const bool fits = begin[d] >= 0 && size[d] >= -1 &&
                          (in.dim(d) < 0 || (size[d] < 0 ? begin[d] <= in.dim(d) : begin[d] + size[d] <= in.dim(d)));
        if (!fits) c.error("the box at ", Shape(begin), " of size ", Shape(size), " does not fit in ", in);
      }
      c.set_output(c.input_dtypes[0], slice_shape(in, begin, size));
    },
    .kernel = [](KernelContext& k) {
      copy_box(k.input(0), k.output(), k.attrs().get<std::vector<int64_t>>("begin"), true);
    },
    .gradient = [](Node& n, const Grads& g) -> Grads {
      const Shape& in = n.inputs[0].shape();
      const std::vector<int64_t>& begin = n.attrs.get<std::vector<int64_t>>("begin");
      const Shape out = n.output_shapes[0];
      std::vector<int64_t> paddings;
      for (int d = 0; d < in.rank(); ++d) {
        const bool to_end = n.attrs.get<std::vector<int64_t>>("size")[d] < 0;
        if (!to_end && in.dim(d) < 0) fail("Slice '", n.name, "': cannot take the gradient of a box in an unknown dimension");
        paddings.push_back(begin[d]);
        paddings.push_back(to_end ? 0 : in.dim(d) - begin[d] - out.dim(d));
      }
      return {Pad(g[0], paddings)};
    },
});

}  // namespace

Output Pad(Output x, std::vector<int64_t> paddings, Name name) {
  return x.graph().add_node("Pad", {x}, {{"paddings", std::move(paddings)}}, name)->output();
}

Output Slice(Output x, std::vector<int64_t> begin, std::vector<int64_t> size, Name name) {
  return x.graph().add_node("Slice", {x}, {{"begin", std::move(begin)}, {"size", std::move(size)}}, name)->output();
}

}  // namespace horn::ops
