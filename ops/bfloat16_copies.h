// The bfloat16 copies that a fused optimizer update keeps of the float32 variables it
// stores (attribute "bfloat16_copies": those variables' input indices; set by
// core/compiler/bfloat16_variable_copies.cc). The update writes each copy in the same pass
// as the variable; VariableAsBFloat16 reads it in the next step instead of a Cast.
#pragma once
#include <utility>
#include <vector>

#include "core/session.h"
#include "ops/program_runner.h"

namespace horn::ops {

class KeptBFloat16Copies {
 public:
  // The copies `k`'s node keeps, with buffers of their variables' shapes. The executor has
  // already marked them stale for this write.
  explicit KeptBFloat16Copies(KernelContext& k) {
    if (!k.attrs().has("bfloat16_copies")) return;
    for (int64_t i : k.attrs().get<std::vector<int64_t>>("bfloat16_copies")) {
      const Node& var = *k.node.inputs[i].node;
      BFloat16Copy& copy = k.state.bfloat16_copy(var);
      const Tensor& values = k.state.variable(var);
      // Made once, then rewritten in place: this run's readers of the old copy are ordered
      // before the write, and no other run reads it while a run writes variables.
      if (!copy.values.defined() || copy.values.shape() != values.shape())
        copy.values = Tensor(DType::kBFloat16, values.shape());
      copies_.emplace_back(static_cast<int>(i), &copy);
    }
  }

  // The update program's external j is input j + first_input.
  template <typename T>
  void attach(kernels::ProgramRunner<T>& runner, int first_input) const {
    for (const auto& [input, copy] : copies_)
      runner.set_bfloat16_copy_of_store(input - first_input, copy->values.template data<bfloat16>());
  }

  // Every element of the variables and their copies has been written.
  void mark_current() const {
    for (const auto& [input, copy] : copies_) copy->current = true;
  }

 private:
  std::vector<std::pair<int, BFloat16Copy*>> copies_;
};

}  // namespace horn::ops
