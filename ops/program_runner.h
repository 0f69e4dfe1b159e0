// The interpreter behind the compiler's fused kernels (FusedElementwise, FusedAssign,
// FusedReduce, and the epilogues of FusedMatMul and FusedMatMulAssign): it runs a
// FusedProgram (core/fused_program.h), already validated when the plan was compiled.
//
// It runs any range of output elements in chunks of kChunk that stay in L1. Every chunk is
// computed in whole SIMD packets into 64-byte-aligned memory (ragged ends are padded), so
// each element takes the same code path as in the unfused op's kernel: fused and unfused
// results are bitwise identical.
#pragma once
#include <algorithm>
#include <vector>

#include "core/bfloat16.h"
#include "core/fused_program.h"
#include "ops/kernel_util.h"

namespace horn::kernels {

// Divides kElementwiseBlock. 1 KiB of floats per temporary: an optimizer update's ~25
// temporaries then fit in L1 together. At 4 KiB they spilled to L2, and the Adam update
// of a 784x500 kernel took 10-30% longer (bench/README.md, issue 13, fifth part).
inline constexpr int64_t kChunk = 256;
static_assert(kElementwiseBlock % kChunk == 0 && kChunk % kSimdWidth == 0);

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
  // Where external 0 comes from: a tensor like the others, or the GEMM panels that each
  // run() call is given (a fused weight-gradient update: the product is never stored whole).
  enum class Product { kInExternals, kFromPanels };

  // `externals` are the program's operands (the variables among them are written by its
  // stores); `space` is the element index space; results go to `y` unless the program ends
  // with a store, when y must be null.
  ProgramRunner(const FusedProgram& program, std::vector<Tensor>& externals, const Shape& space, T* y,
                Product product = Product::kInExternals)
      : p_(program), os_(space), y_(y) {
    HORN_ASSERT(!p_.ends_with_store() || !y, "a program that ends with a store writes no output");
    for (size_t j = 0; j < externals.size(); ++j) {
      Tensor& t = externals[j];
      if (j == 0 && product == Product::kFromPanels) {
        ext_.push_back({Kind::kPanel, nullptr, nullptr, {}});
        continue;
      }
      const Kind kind = t.shape() == os_ ? Kind::kFull : t.size() == 1 ? Kind::kScalar : Kind::kBroadcast;
      ext_.push_back({kind, t.data<T>(), nullptr, broadcast_strides(t.shape(), os_)});
    }
    // Variables the program stores into are read as they were before the program (the
    // unfused graph orders every read of a variable before its write). Stores write each
    // chunk straight into the variable, so a variable that an instruction reads at or after
    // its first store is copied, chunk by chunk, before any instruction runs; the others
    // (an optimizer's slots and weight, read only to compute their own new values) are read
    // in place: two passes fewer per stored variable.
    for (int var : p_.stored_externals()) {
      ext_[var].kind = p_.reads_after_store(var) ? Kind::kSnapshot : Kind::kStoredInPlace;
      ext_[var].store = externals[var].data<T>();
    }
    store_copies_.assign(ext_.size(), nullptr);
  }

  // Also writes the program's values rounded to bfloat16 (as Cast rounds them) to copy[i] for
  // every element i it computes: a Cast to bfloat16 fused into the pass (float32 programs).
  void set_bfloat16_copy(bfloat16* copy) {
    HORN_ASSERT(!p_.ends_with_store(), "a program that ends with a store has no values to copy");
    copy_ = copy;
  }

  // Also writes the final value of stored variable `external`, rounded to bfloat16, to
  // copy[i] for every element i it stores: the copy a mixed_bfloat16 layer reads
  // (core/compiler/bfloat16_variable_copies.cc), made while the chunk is in L1.
  void set_bfloat16_copy_of_store(int external, bfloat16* copy) {
    HORN_ASSERT(ext_[external].store, "external ", external, " is not stored by the program");
    store_copies_[external] = copy;
  }

  // Computes output elements [s, e) on the calling thread.
  void run(int64_t s, int64_t e) const { run(s, e, y_ ? y_ + s : nullptr); }

  // Same, writing element i to dst[i - s] instead (null when the program ends with a store).
  // With Product::kFromPanels, `panel` holds external 0's values for [s, e).
  void run(int64_t s, int64_t e, T* dst, const T* panel = nullptr) const {
    const std::vector<ProgramInstruction>& code = p_.instructions;
    const size_t n_in = ext_.size(), n_ops = code.size();
    T* temps = thread_scratch<T, ScratchSlot::kProgram>((n_in + n_ops) * kChunk);  // kChunk per slot
    // Per-thread pointer tables: run() is called per GEMM panel row, so it must not allocate.
    thread_local std::vector<const T*> in_ptr, arg_ptr, result, current;
    in_ptr.resize(n_in);
    result.resize(n_ops);
    const int64_t spread = std::min(kChunk, (e - s + kSimdWidth - 1) / kSimdWidth * kSimdWidth);
    for (size_t j = 0; j < n_in; ++j)  // scalars (an optimizer has many) are spread once
      if (ext_[j].kind == Kind::kScalar) std::fill_n(temps + j * kChunk, spread, ext_[j].base[0]);
    for (int64_t c = s; c < e; c += kChunk) {
      const int64_t len = std::min(kChunk, e - c);
      const int64_t n = (len + kSimdWidth - 1) / kSimdWidth * kSimdWidth;  // whole packets
      const bool ragged = n != len;
      for (size_t j = 0; j < n_in; ++j) {
        const External& x = ext_[j];
        T* slot = temps + j * kChunk;
        switch (x.kind) {
          case Kind::kScalar: in_ptr[j] = slot; continue;
          case Kind::kFull:
          case Kind::kStoredInPlace:
          case Kind::kPanel: {
            const T* src = x.kind == Kind::kPanel ? panel + (c - s) : x.base + c;
            if (!ragged) {
              in_ptr[j] = src;
              continue;
            }
            std::copy_n(src, len, slot);
            break;
          }
          case Kind::kSnapshot: std::copy_n(x.base + c, len, slot); break;
          case Kind::kBroadcast: gather(x.base, os_, x.strides, c, len, slot); break;
        }
        std::fill(slot + len, slot + n, T(0));
        in_ptr[j] = slot;
      }
      current = in_ptr;  // a variable's value as seen by later stores
      for (size_t k = 0; k < n_ops; ++k) {
        const ProgramInstruction& in = code[k];
        auto ref = [&](const ProgramOperand& a) { return a.is_external() ? in_ptr[a.index] : result[a.index]; };
        T* tmp = temps + (n_in + k) * kChunk;
        if (in.is_store()) {
          const int var = in.args[0].index;
          const T* old = current[var];
          const T* value = ref(in.args[1]);
          // Whole packets go straight to the variable (unless a later store overwrites it
          // there); a ragged chunk through tmp.
          const bool direct = !ragged && last_stores_[k];
          T* to = direct ? ext_[var].store + c : tmp;
          switch (in.op->variable_update) {
            case VariableUpdate::kAssign:
              if (value != to) std::copy_n(value, n, to);
              break;
            case VariableUpdate::kAdd: for (int64_t i = 0; i < n; ++i) to[i] = old[i] + value[i]; break;
            default: for (int64_t i = 0; i < n; ++i) to[i] = old[i] - value[i]; break;
          }
          if (!direct) std::copy_n(tmp, len, ext_[var].store + c);
          if (store_copies_[var] && last_stores_[k]) write_bfloat16_copy(ext_[var].store + c, len, store_copies_[var] + c);
          result[k] = current[var] = to;
          continue;
        }
        arg_ptr.clear();
        for (const ProgramOperand& a : in.args) arg_ptr.push_back(ref(a));
        const bool last = k + 1 == n_ops;
        // The last result goes straight to the output when that keeps whole aligned packets.
        T* const y = last ? dst + (c - s) : nullptr;
        const bool direct = last && !ragged && reinterpret_cast<uintptr_t>(y) % 64 == 0;
        T* out = direct ? y : tmp;
        if constexpr (std::is_same_v<T, float>) in.op->elementwise.f32(arg_ptr.data(), out, n);
        else in.op->elementwise.f64(arg_ptr.data(), out, n);
        if (last && !direct) std::copy_n(tmp, len, y);
        result[k] = out;
      }
      if (copy_) write_bfloat16_copy(result[n_ops - 1], len, copy_ + c);
    }
  }

 private:
  static void write_bfloat16_copy(const T* values, int64_t len, bfloat16* to) {
    if constexpr (std::is_same_v<T, float>) {
      bfloat16_bits(values, len, reinterpret_cast<uint16_t*>(to));
    } else {
      HORN_ASSERT(false, "a bfloat16 copy is of float32 values");
    }
  }

  enum class Kind { kFull, kScalar, kBroadcast, kSnapshot, kStoredInPlace, kPanel };

  struct External {
    Kind kind;
    const T* base;  // null for kPanel
    T* store;       // where the program's stores write, for variables it stores into
    std::vector<int64_t> strides;
  };

  const FusedProgram& p_;
  Shape os_;
  T* y_;
  std::vector<External> ext_;
  bfloat16* copy_ = nullptr;
  std::vector<bfloat16*> store_copies_;  // per external: where a stored variable's copy goes
  // A store's result may live in its variable only if no later store overwrites it there.
  std::vector<bool> last_stores_ = p_.last_stores();
};

}  // namespace horn::kernels
