// A fused program: the typed structure that the compiler's fusion passes build and the fused
// kernels run (FusedElementwise, FusedAssign, FusedReduce, and the epilogues of GEMM-like
// ops). It lives in a node's attribute "program" and is checked once, by the fused op's
// shape function when the compiler builds the node (`validate`); kernels run it as it is.
//
// Each instruction applies an op to operands that are the fused node's externals (its inputs,
// or for an epilogue the GEMM's product as external 0) or earlier instructions' results. An op
// is either elementwise (it has an ElementwiseFn) or a variable update (Assign, AssignAdd,
// AssignSub: a store of a value into an external that is a Variable). The kernel's output is
// the last instruction's result.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/op_registry.h"

namespace horn {

struct ProgramOperand {
  enum class Kind : uint8_t { kExternal, kResult };
  Kind kind = Kind::kExternal;
  int index = 0;  // external index, or the index of an earlier instruction

  static ProgramOperand external(int i) { return {Kind::kExternal, i}; }
  static ProgramOperand result(int k) { return {Kind::kResult, k}; }
  bool is_external() const { return kind == Kind::kExternal; }
  bool operator==(const ProgramOperand&) const = default;
};

struct ProgramInstruction {
  const OpDef* op = nullptr;
  std::vector<ProgramOperand> args;  // a store's are (the variable, the value)

  bool is_store() const { return op->variable_update != VariableUpdate::kNone; }
};

// What validation knows of one external: its dtype and shape, and the node that makes it
// (nullptr for an epilogue's product, which no input holds).
struct ProgramExternal {
  DType dtype;
  Shape shape;
  const Node* source = nullptr;
};

class FusedProgram {
 public:
  std::vector<ProgramInstruction> instructions;

  // The externals that instructions store into, each once, in first-store order.
  std::vector<int> stored_externals() const;
  // Whether an instruction reads external `e` (not as a store's target) at or after the
  // program's first store into it: the old value must then be kept aside.
  bool reads_after_store(int e) const;
  // Per instruction: whether it is the last store into its variable (a later store would
  // overwrite, in the variable, the result that later instructions may still read).
  std::vector<bool> last_stores() const;
  bool ends_with_store() const { return !instructions.empty() && instructions.back().is_store(); }
  // Throws an Error starting with `where` unless: there is at least one instruction; every
  // operand names an existing external or an earlier instruction; arities match the ops;
  // every op has an ElementwiseFn for `dtype` or is a store into an external that a Variable
  // makes, of exactly `space`'s shape; every external has `dtype` and broadcasts to `space`.
  void validate(const std::string& where, const std::vector<ProgramExternal>& externals, DType dtype,
                const Shape& space) const;
  // "r0 = Mul(e0, e1); r1 = AssignSub(e2, r0)": for CSE keys, DOT dumps and errors.
  std::string to_string() const;
};

using FusedProgramPtr = std::shared_ptr<const FusedProgram>;

// The node's attribute "program".
inline const FusedProgram& program_of(const Node& node) { return *node.attrs.get<FusedProgramPtr>("program"); }

}  // namespace horn
