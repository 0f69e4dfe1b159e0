// What the scheduler, the memory planner and the fusion passes learn from op traits rather
// than op names: views of inputs, variable writes, roles.
#include <gtest/gtest.h>

#include "core/op_registry.h"
#include "core/session.h"
#include "ops/ops.h"
#include "tests/test_util.h"

namespace horn {
namespace {

// A view of a variable (Cast to its own dtype, ReduceToShapeLike to its own shape, Reshape)
// shares the variable's storage: whatever reads the view must run before the variable's
// update, or it reads the new value. The view ops declare it (OpDef::view_of_input), and the
// scheduler and memory planner both ask the same function.
TEST(OpTraits, ReadsThroughViewsOfAVariableRunBeforeItsUpdate) {
  using ViewFn = std::function<Output(Output)>;
  const std::vector<std::pair<std::string, ViewFn>> views{
      {"Cast", [](Output v) { return ops::Cast(v, DType::kFloat32); }},
      {"ReduceToShapeLike", [](Output v) { return ops::ReduceToShapeLike(v, v); }},
      {"Reshape", [](Output v) { return ops::Reshape(v, {3, 2}); }},
      {"StopGradient", [](Output v) { return ops::StopGradient(v); }},
  };
  for (const auto& [name, view] : views)
    for (bool optimize : {false, true}) {
      Graph g;
      Output v = ops::Variable(g, Tensor(Shape{2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}), "v");
      Output y = ops::Sum(view(v) * 2.0f);
      Output update = ops::AssignAdd(v, ops::Const(g, Tensor::fill(DType::kFloat32, {2, 3}, 100)));
      Session s(g, {.num_threads = 1, .optimize = optimize});
      s.initialize_variables();
      const Tensor before = s.run({}, {y}, {update.node})[0];
      EXPECT_FLOAT_EQ(before.data<float>()[0], 42.0f) << name << (optimize ? " compiled" : " reference");
      EXPECT_FLOAT_EQ(s.variable_value(v.node).data<float>()[0], 101.0f) << name;
    }
}

TEST(OpTraits, WrittenVariablesAndViewsAreDeclaredByTheOps) {
  Graph g;
  Output v = ops::Variable(g, Tensor::zeros(DType::kFloat32, {4}), "v");
  Output x = ops::Placeholder(g, DType::kFloat32, {4}, "x");
  EXPECT_EQ(written_variable_inputs(*ops::AssignSub(v, x).node), std::vector<int>{0});
  EXPECT_TRUE(written_variable_inputs(*(x + x).node).empty());
  EXPECT_EQ(viewed_input(*ops::Reshape(x, {2, 2}).node), 0);
  EXPECT_EQ(viewed_input(*ops::Exp(x).node), -1);
  EXPECT_TRUE(ops::Exp(x).node->op->has(kInPlace));  // every op with an ElementwiseFn
  EXPECT_TRUE(v.node->op->is(OpRole::kVariable));
  EXPECT_EQ(&OpRegistry::global().with_role(OpRole::kPlaceholder), x.node->op);
  EXPECT_TRUE(OpRegistry::global().get("MatMul").epilogue);
}

}  // namespace
}  // namespace horn
