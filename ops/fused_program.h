// The interpreter behind the compiler's fused kernels (FusedElementwise, FusedAssign,
// FusedMatMul's epilogue). A program is a list of instructions, each an elementwise op's
// ElementwiseFn (or a store into a variable) over external inputs or earlier results.
//
// Attribute "program": per instruction, the op's registry index, the argument count, then the
// arguments (>= 0: external input; < 0: the result of instruction -(a + 1)).
//
// It runs any range of output elements in chunks of kChunk that stay in L1. Every chunk is
// computed in whole SIMD packets into 64-byte-aligned memory (ragged ends are padded), so
// each element takes the same code path as in the unfused op's kernel: fused and unfused
// results are bitwise identical.
#pragma once
#include <algorithm>
#include <vector>

#include "ops/kernel_util.h"

namespace horn::kernels {

inline constexpr int64_t kChunk = 1024;  // divides kElementwiseBlock; 4 KiB of floats per temporary
static_assert(kElementwiseBlock % kChunk == 0 && kChunk % kSimdWidth == 0);

struct Program {
  std::vector<const OpDef*> ops;
  std::vector<std::vector<int64_t>> args;
};

Program decode_program(const Node& node);

enum class Store { kNone, kAssign, kAdd, kSub };
Store store_kind(const OpDef& op);

// slot[0..len) = a broadcast operand's values at output elements [start, start + len).
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
  for (int64_t i = 0; i < len;) {  // an odometer over the output index, whole rows at a time
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

template <typename T>
class ProgramRunner {
 public:
  // `inputs` are the program's externals; `out` is written (unless the last instruction is a
  // store, which writes its variable); its shape defines the element index space.
  ProgramRunner(const Node& node, const std::vector<Tensor>& inputs, Tensor& out)
      : ProgramRunner(decode_program(node), inputs, out) {}
  ProgramRunner(Program program, const std::vector<Tensor>& inputs, Tensor& out)
      : ProgramRunner(std::move(program), inputs, out.shape(), out.data<T>()) {}
  // Over the element space `space`, writing to `y` (unless the program ends with a store),
  // or only to the destinations given to run().
  ProgramRunner(Program program, const std::vector<Tensor>& inputs, const Shape& space, T* y)
      : p_(std::move(program)), inputs_(inputs), os_(space), y_(y) {
    for (const Tensor& t : inputs) {
      kind_.push_back(t.shape() == os_ ? Kind::kFull : t.size() == 1 ? Kind::kScalar : Kind::kBroadcast);
      strides_.push_back(broadcast_strides(t.shape(), os_));
    }
    // Variables the program stores into are read as they were before the program (the
    // unfused graph orders every read of a variable before its write): each chunk of them is
    // copied before any instruction runs.
    for (size_t k = 0; k < p_.ops.size(); ++k)
      if (store_kind(*p_.ops[k]) != Store::kNone) kind_[p_.args[k][0]] = Kind::kSnapshot;
    if (store_kind(*p_.ops.back()) != Store::kNone) y_ = nullptr;
  }

  // Computes output elements [s, e) on the calling thread.
  void run(int64_t s, int64_t e) const { run(s, e, y_ ? y_ + s : nullptr); }

  // Same, writing element i to dst_base[i - s] instead (unused when the program ends with
  // a store). When `product` is given, it holds external 0's values for [s, e) (a GEMM
  // panel in scratch: external 0 then has no storage of its own).
  void run(int64_t s, int64_t e, T* dst_base, const T* product = nullptr) const {
    const size_t n_in = inputs_.size(), n_ops = p_.ops.size();
    T* temps = thread_scratch<T, ScratchSlot::kProgram>((n_in + n_ops) * kChunk);  // kChunk per slot
    // Per-thread pointer tables: run() is called per GEMM panel row, so it must not allocate.
    thread_local std::vector<const T*> in_ptr, arg_ptr, result, current;
    in_ptr.resize(n_in);
    result.resize(n_ops);
    const int64_t spread = std::min(kChunk, (e - s + kSimdWidth - 1) / kSimdWidth * kSimdWidth);
    for (size_t j = 0; j < n_in; ++j)  // scalars (an optimizer has many) are spread once
      if (kind_[j] == Kind::kScalar) std::fill_n(temps + j * kChunk, spread, inputs_[j].data<T>()[0]);
    for (int64_t c = s; c < e; c += kChunk) {
      const int64_t len = std::min(kChunk, e - c);
      const int64_t n = (len + kSimdWidth - 1) / kSimdWidth * kSimdWidth;  // whole packets
      const bool ragged = n != len;
      for (size_t j = 0; j < n_in; ++j) {
        const T* base = inputs_[j].data<T>();
        T* slot = temps + j * kChunk;
        switch (kind_[j]) {
          case Kind::kScalar: in_ptr[j] = slot; continue;
          case Kind::kFull: {
            const T* src = j == 0 && product ? product + (c - s) : base + c;
            if (!ragged) {
              in_ptr[j] = src;
              continue;
            }
            std::copy_n(src, len, slot);
            break;
          }
          case Kind::kSnapshot: std::copy_n(base + c, len, slot); break;
          case Kind::kBroadcast: gather(base, os_, strides_[j], c, len, slot); break;
        }
        std::fill(slot + len, slot + n, T(0));
        in_ptr[j] = slot;
      }
      current = in_ptr;  // a variable's value as seen by later stores
      for (size_t k = 0; k < n_ops; ++k) {
        auto ref = [&](int64_t a) { return a >= 0 ? in_ptr[a] : result[-a - 1]; };
        T* tmp = temps + (n_in + k) * kChunk;
        const Store store = store_kind(*p_.ops[k]);
        if (store != Store::kNone) {
          const int64_t var = p_.args[k][0];
          const T* old = current[var];
          const T* value = ref(p_.args[k][1]);
          if (store == Store::kAssign) std::copy_n(value, n, tmp);
          else if (store == Store::kAdd) for (int64_t i = 0; i < n; ++i) tmp[i] = old[i] + value[i];
          else for (int64_t i = 0; i < n; ++i) tmp[i] = old[i] - value[i];
          // The variable's storage is written in place: that is what a store is for.
          std::copy_n(tmp, len, const_cast<T*>(inputs_[var].data<T>()) + c);
          result[k] = current[var] = tmp;
          continue;
        }
        arg_ptr.clear();
        for (int64_t a : p_.args[k]) arg_ptr.push_back(ref(a));
        // The last result goes straight to the output when that keeps whole aligned packets.
        T* const y = dst_base + (c - s);
        const bool direct = k + 1 == n_ops && !ragged && reinterpret_cast<uintptr_t>(y) % 64 == 0;
        T* out = direct ? y : tmp;
        if constexpr (std::is_same_v<T, float>) p_.ops[k]->elementwise.f32(arg_ptr.data(), out, n);
        else p_.ops[k]->elementwise.f64(arg_ptr.data(), out, n);
        if (k + 1 == n_ops && !direct) std::copy_n(tmp, len, y);
        result[k] = out;
      }
    }
  }

 private:
  enum class Kind { kFull, kScalar, kBroadcast, kSnapshot };

  Program p_;
  const std::vector<Tensor>& inputs_;
  Shape os_;
  T* y_;
  std::vector<Kind> kind_;
  std::vector<std::vector<int64_t>> strides_;
};

}  // namespace horn::kernels
