#include "core/fused_program.h"

#include <algorithm>
#include <sstream>

namespace horn {

std::vector<int> FusedProgram::stored_externals() const {
  std::vector<int> out;
  for (const ProgramInstruction& in : instructions)
    if (in.is_store() && std::find(out.begin(), out.end(), in.args[0].index) == out.end())
      out.push_back(in.args[0].index);
  return out;
}

bool FusedProgram::reads_after_store(int e) const {
  bool stored = false;
  for (const ProgramInstruction& in : instructions) {
    for (size_t a = in.is_store() ? 1 : 0; a < in.args.size(); ++a)
      if (stored && in.args[a].is_external() && in.args[a].index == e) return true;
    if (in.is_store() && in.args[0].index == e) stored = true;
  }
  return false;
}

std::vector<bool> FusedProgram::last_stores() const {
  std::vector<bool> last(instructions.size(), false);
  std::vector<int> seen;  // variables stored into by later instructions
  for (size_t k = instructions.size(); k-- > 0;) {
    const ProgramInstruction& in = instructions[k];
    if (!in.is_store()) continue;
    last[k] = std::find(seen.begin(), seen.end(), in.args[0].index) == seen.end();
    seen.push_back(in.args[0].index);
  }
  return last;
}

void FusedProgram::validate(const std::string& where, const std::vector<ProgramExternal>& externals, DType dtype,
                            const Shape& space) const {
  if (instructions.empty()) fail(where, ": the fused program has no instructions");
  for (size_t j = 0; j < externals.size(); ++j) {
    const ProgramExternal& e = externals[j];
    Shape b;
    if (e.dtype != dtype || !broadcast_shapes(e.shape, space, &b) || b != space)
      fail(where, ": external ", j, " (", dtype_name(e.dtype), e.shape, ") is not ", dtype_name(dtype),
           " broadcasting to ", space);
  }
  for (size_t k = 0; k < instructions.size(); ++k) {
    const ProgramInstruction& in = instructions[k];
    const std::string at = str_cat(where, ": instruction ", k, " (", in.op ? in.op->name : "null", ")");
    if (!in.op) fail(at, ": no op");
    if (in.op->num_inputs >= 0 && static_cast<int>(in.args.size()) != in.op->num_inputs)
      fail(at, ": takes ", in.op->num_inputs, " operands, got ", in.args.size());
    for (const ProgramOperand& a : in.args) {
      if (a.is_external() ? a.index < 0 || a.index >= static_cast<int>(externals.size())
                          : a.index < 0 || a.index >= static_cast<int>(k))
        fail(at, ": operand ", a.is_external() ? "external " : "result ", a.index, " does not exist");
    }
    if (in.is_store()) {
      const ProgramOperand var = in.args[0];
      if (!var.is_external() || !externals[var.index].source ||
          !externals[var.index].source->op->is(OpRole::kVariable))
        fail(at, ": stores into something that is not a Variable");
      if (externals[var.index].shape != space)
        fail(at, ": stores ", space, " into a variable of shape ", externals[var.index].shape);
      continue;
    }
    if (!in.op->elementwise || (dtype == DType::kFloat64 ? !in.op->elementwise.f64 : dtype != DType::kFloat32))
      fail(at, ": not an elementwise op with a ", dtype_name(dtype), " kernel");
  }
}

std::string FusedProgram::to_string() const {
  std::ostringstream s;
  for (size_t k = 0; k < instructions.size(); ++k) {
    const ProgramInstruction& in = instructions[k];
    s << (k ? "; " : "") << "r" << k << " = " << in.op->name << "(";
    for (size_t i = 0; i < in.args.size(); ++i) s << (i ? ", " : "") << (in.args[i].is_external() ? "e" : "r") << in.args[i].index;
    s << ")";
  }
  return s.str();
}

}  // namespace horn
