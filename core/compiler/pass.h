// A compiler pass rewrites a CompiledGraph and says whether it changed anything. Each pass
// lives in its own file and has its own before/after tests; every pass preserves results.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/compiler/compiled_graph.h"

namespace horn::compiler {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string name() const = 0;
  virtual bool run(CompiledGraph& g) = 0;
};

// Merges nodes with the same op, attributes and inputs (never stateful or random ones).
std::unique_ptr<Pass> make_common_subexpression_elimination();
// Evaluates nodes whose inputs are all constants, with the real kernels, up to a size cap.
std::unique_ptr<Pass> make_constant_folding(int64_t max_elements = 1 << 16);
// x*1, x+0, x-0, x/1, neg(neg(x)), transpose(transpose(x)), reshapes and broadcasts to the
// same shape, casts to the same dtype, StopGradient at run time.
std::unique_ptr<Pass> make_algebraic_simplification();
// Chains of elementwise ops become one FusedElementwise node: one pass over memory.
std::unique_ptr<Pass> make_elementwise_fusion();

// A MatMul whose only consumer is elementwise becomes a FusedMatMul with that epilogue.
std::unique_ptr<Pass> make_matmul_epilogue_fusion();
// A sum or mean of an elementwise result is computed in the pass that makes the result
// (FusedReduce, or a column-sum output of a FusedMatMul).
std::unique_ptr<Pass> make_reduction_fusion();
// A Cast to bfloat16 of a fused kernel's float32 values becomes an output of that kernel.
std::unique_ptr<Pass> make_cast_fusion();
// A Cast to bfloat16 of a float32 Variable reads a copy that its fused update keeps.
std::unique_ptr<Pass> make_bfloat16_variable_copies();

// The default pipeline, in order.
std::vector<std::unique_ptr<Pass>> default_pipeline();

}  // namespace horn::compiler
