// FusedElementwise and FusedAssign: a chain of elementwise ops, made by the compiler's
// fusion pass, run as one loop over memory. Its program is a list of instructions, each an
// elementwise op's ElementwiseFn applied to external inputs or earlier results; the last
// result is the output. FusedAssign's programs also store into variables (Assign,
// AssignAdd, AssignSub instructions), so that an optimizer updates a weight and all its
// slots in one pass; its output is the last instruction's result (a variable's new value
// when that instruction is a store). The loop walks the same fixed 64K-element blocks as unfused kernels, in chunks of
// kChunk that stay in L1, with 64-byte-aligned scratch: every element takes the same SIMD
// path as it would unfused, so the results are bitwise identical.
#include <cstdlib>

#include "ops/kernel_util.h"
#include "ops/ops.h"

namespace horn::ops {
namespace {

constexpr int64_t kChunk = 1024;  // divides kElementwiseBlock; 4 KiB of floats per temporary
static_assert(kElementwiseBlock % kChunk == 0);

struct Program {
  std::vector<const OpDef*> ops;
  std::vector<std::vector<int64_t>> args;  // >= 0: external input; < 0: result -(r + 1)
};

// The "program" attribute: per instruction, the op's registry index, the argument count,
// then the arguments. ("ops" holds the same ops by name, for people: DOT, summaries.)
Program decode(const Node& node) {
  Program p;
  const std::vector<int64_t>& code = node.attrs.get<std::vector<int64_t>>("program");
  for (size_t at = 0; at < code.size();) {
    HORN_ASSERT(at + 1 < code.size(), "FusedElementwise '", node.name, "': truncated program");
    p.ops.push_back(&OpRegistry::global().at(static_cast<int>(code[at])));
    const int64_t nargs = code[at + 1];
    p.args.emplace_back(code.begin() + at + 2, code.begin() + at + 2 + nargs);
    at += 2 + nargs;
  }
  return p;
}

// Scratch for one thread: `slots` aligned arrays of kChunk elements.
template <typename T>
T* scratch(size_t slots) {
  struct Buffer {
    T* data = nullptr;
    size_t slots = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer b;
  if (b.slots < slots) {
    std::free(b.data);
    b.data = static_cast<T*>(std::aligned_alloc(64, slots * kChunk * sizeof(T)));
    if (!b.data) fail("FusedElementwise: out of memory for scratch");
    b.slots = slots;
  }
  return b.data;
}

// slot[0..len) = the broadcast operand's values at output elements [start, start+len):
// an odometer over the output index, copying (or repeating) whole innermost rows.
template <typename T>
void gather(const T* base, const Shape& os, const std::vector<int64_t>& strides, int64_t start, int64_t len, T* slot) {
  const int rank = os.rank();
  std::vector<int64_t> index(rank);
  int64_t offset = 0, rem = start;
  for (int d = rank - 1; d >= 0; --d) {
    index[d] = rem % os.dim(d);
    rem /= os.dim(d);
    offset += index[d] * strides[d];
  }
  const int64_t inner = os.dim(rank - 1), inner_stride = strides[rank - 1];
  for (int64_t i = 0; i < len;) {
    const int64_t run = std::min(len - i, inner - index[rank - 1]);
    if (inner_stride == 0) std::fill_n(slot + i, run, base[offset]);
    else std::copy_n(base + offset, run, slot + i);
    i += run;
    offset += run * inner_stride;
    index[rank - 1] += run;
    for (int d = rank - 1; d > 0 && index[d] == os.dim(d); --d) {  // carry
      offset -= index[d] * strides[d];
      index[d] = 0;
      ++index[d - 1];
      offset += strides[d - 1];
    }
  }
}

enum class Store { kNone, kAssign, kAdd, kSub };

Store store_kind(const OpDef& op) {
  if (op.name == "Assign") return Store::kAssign;
  if (op.name == "AssignAdd") return Store::kAdd;
  if (op.name == "AssignSub") return Store::kSub;
  return Store::kNone;
}

// Runs the program into `out` (FusedElementwise), or for FusedAssign returns the tensor that
// holds the last result (a stored variable, or `out`).
template <typename T>
void run_program(const Node& node, const std::vector<Tensor>& inputs, Tensor& out) {
  const Program p = decode(node);
  const Shape& os = out.shape();
  enum class Kind { kFull, kScalar, kBroadcast, kSnapshot };
  std::vector<Kind> kind;
  std::vector<std::vector<int64_t>> strides;
  for (const Tensor& t : inputs) {
    kind.push_back(t.shape() == os ? Kind::kFull : t.size() == 1 ? Kind::kScalar : Kind::kBroadcast);
    strides.push_back(kernels::broadcast_strides(t.shape(), os));
  }
  // Variables the program stores into: reads of them see the value from before the program
  // (the unfused graph orders every read of a variable before its write), so each chunk of
  // them is copied before any instruction runs.
  for (size_t k = 0; k < p.ops.size(); ++k)
    if (store_kind(*p.ops[k]) != Store::kNone) kind[p.args[k][0]] = Kind::kSnapshot;
  const size_t n_in = inputs.size(), n_ops = p.ops.size();
  const bool store_last = store_kind(*p.ops.back()) != Store::kNone;
  T* y = store_last ? nullptr : out.data<T>();
  parallel_blocks(os.num_elements(), kElementwiseBlock, [&](int64_t s, int64_t e) {
    T* temps = scratch<T>(n_in + n_ops);
    std::vector<const T*> in_ptr(n_in), arg_ptr, result(n_ops);
    for (size_t j = 0; j < n_in; ++j)  // scalars (an optimizer has many) are spread once per block
      if (kind[j] == Kind::kScalar) {
        std::fill_n(temps + j * kChunk, kChunk, inputs[j].data<T>()[0]);
        in_ptr[j] = temps + j * kChunk;
      }
    for (int64_t c = s; c < e; c += kChunk) {
      const int64_t len = std::min(kChunk, e - c);
      for (size_t j = 0; j < n_in; ++j) {
        const T* base = inputs[j].data<T>();
        T* slot = temps + j * kChunk;
        switch (kind[j]) {
          case Kind::kFull: in_ptr[j] = base + c; continue;
          case Kind::kScalar: continue;
          case Kind::kSnapshot: std::copy_n(base + c, len, slot); break;
          case Kind::kBroadcast: gather(base, os, strides[j], c, len, slot); break;
        }
        in_ptr[j] = slot;
      }
      for (size_t k = 0; k < n_ops; ++k) {
        auto ref = [&](int64_t a) { return a >= 0 ? in_ptr[a] : result[-a - 1]; };
        const Store store = store_kind(*p.ops[k]);
        if (store != Store::kNone) {
          // The variable's storage is written in place: that is what this op is for.
          T* var = const_cast<T*>(inputs[p.args[k][0]].data<T>()) + c;
          const T* value = ref(p.args[k][1]);
          if (store == Store::kAssign) std::copy_n(value, len, var);
          else if (store == Store::kAdd) for (int64_t i = 0; i < len; ++i) var[i] += value[i];
          else for (int64_t i = 0; i < len; ++i) var[i] -= value[i];
          result[k] = var;
          continue;
        }
        arg_ptr.clear();
        for (int64_t a : p.args[k]) arg_ptr.push_back(ref(a));
        T* dst = k + 1 == n_ops ? y + c : temps + (n_in + k) * kChunk;
        if constexpr (std::is_same_v<T, float>) p.ops[k]->elementwise.f32(arg_ptr.data(), dst, len);
        else p.ops[k]->elementwise.f64(arg_ptr.data(), dst, len);
        result[k] = dst;
      }
    }
  });
}

void fused_shape(ShapeContext& c) {
  const Shape& shape = c.attrs().get<Shape>("shape");
  const DType dtype = c.attrs().get<DType>("dtype");
  if (!is_floating(dtype)) c.error("fused ops must be float, got ", dtype_name(dtype));
  for (size_t i = 0; i < c.input_shapes.size(); ++i) {
    Shape b;
    if (c.input_dtypes[i] != dtype || !broadcast_shapes(c.input_shapes[i], shape, &b) || b != shape)
      c.error("input ", i, " (", dtype_name(c.input_dtypes[i]), c.input_shapes[i], ") does not broadcast to ", shape);
  }
  c.set_output(dtype, shape);
}

HORN_REGISTER_OP({
    .name = "FusedElementwise", .num_inputs = -1, .traits = kElementwise | kBroadcasting,
    .shape_fn = fused_shape,
    .kernel = [](KernelContext& k) {
      kernels::dispatch_float(k.output().dtype(), [&](auto v) { run_program<decltype(v)>(k.node, k.inputs, k.output()); });
    },
    .differentiable = false,  // made by the compiler after differentiation
});

// Attribute "stores": the inputs that are variables the program writes (for scheduling).
HORN_REGISTER_OP({
    .name = "FusedAssign", .num_inputs = -1, .traits = kStateful | kWritesVariable,
    .shape_fn = fused_shape,
    .kernel = [](KernelContext& k) {
      const Program p = decode(k.node);
      const DType dtype = k.node.output_dtypes[0];
      if (store_kind(*p.ops.back()) != Store::kNone) {
        k.output() = k.inputs[p.args.back()[0]];  // the stored variable's new value
      } else {
        k.output() = Tensor(dtype, k.output_shapes[0]);
      }
      kernels::dispatch_float(dtype, [&](auto v) { run_program<decltype(v)>(k.node, k.inputs, k.output()); });
    },
    .differentiable = false,
    .kernel_sets_outputs = true,
});

}  // namespace
}  // namespace horn::ops
