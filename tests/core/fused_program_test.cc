// The typed fused program (core/fused_program.h): what the fusion passes build is checked
// once, when the fused node is built, and a bad program is refused with an error naming the
// node and the instruction, before any kernel runs it.
#include <gtest/gtest.h>

#include "core/fused_program.h"
#include "core/session.h"
#include "ops/ops.h"
#include "tests/test_util.h"

namespace horn {
namespace {

using testing::expect_error;

const OpDef& op(const std::string& name) { return OpRegistry::global().get(name); }
ProgramOperand e(int i) { return ProgramOperand::external(i); }
ProgramOperand r(int k) { return ProgramOperand::result(k); }

Node* fused_loop(Graph& g, std::vector<Output> inputs, std::vector<ProgramInstruction> code, const Shape& shape) {
  auto program = std::make_shared<FusedProgram>();
  program->instructions = std::move(code);
  const OpRole role = program->stored_externals().empty() ? OpRole::kFusedLoop : OpRole::kFusedUpdate;
  return g.add_node(OpRegistry::global().with_role(role), std::move(inputs),
                    {{"program", FusedProgramPtr(std::move(program))},
                     {"ops", std::string("test")},
                     {"shape", shape},
                     {"dtype", DType::kFloat32}},
                    "fused");
}

TEST(FusedProgram, RunsAChainAndAStoreAsTheUnfusedOpsWould) {
  Graph g;
  Output x = ops::Const(g, Tensor::uniform(DType::kFloat32, {3, 5}, -1, 1, 1));
  Output b = ops::Const(g, Tensor::uniform(DType::kFloat32, {5}, -1, 1, 2));
  Output v = ops::Variable(g, Tensor::zeros(DType::kFloat32, {3, 5}), "v");
  // r0 = x + b; r1 = sigmoid(r0); v -= r1
  Node* n = fused_loop(g, {x, b, v},
                       {{&op("Add"), {e(0), e(1)}}, {&op("Sigmoid"), {r(0)}}, {&op("AssignSub"), {e(2), r(1)}}},
                       {3, 5});
  EXPECT_EQ(program_of(*n).stored_externals(), std::vector<int>{2});
  EXPECT_EQ(written_variable_inputs(*n), std::vector<int>{2});
  EXPECT_EQ(program_of(*n).to_string(), "r0 = Add(e0, e1); r1 = Sigmoid(r0); r2 = AssignSub(e2, r1)");
  Output expected = ops::Neg(ops::Sigmoid(x + b));
  Session s(g, {.optimize = false});
  s.initialize_variables();
  const Tensor want = s.run({}, expected);
  s.run({}, {}, {n});
  EXPECT_TRUE(s.variable_value(v.node).bitwise_equal(want));
}

// What the program runner asks of a program with stores: which variables are read after
// their store (their old values must be kept aside) and which stores are the last into
// their variable (only those may leave their result in the variable).
TEST(FusedProgram, KnowsReadsAfterStoresAndLastStores) {
  FusedProgram p;
  // r0 = Assign(e0, e1); r1 = Mul(e0, r0); r2 = AssignAdd(e0, r1); r3 = Assign(e2, e1)
  p.instructions = {{&op("Assign"), {e(0), e(1)}},
                    {&op("Mul"), {e(0), r(0)}},
                    {&op("AssignAdd"), {e(0), r(1)}},
                    {&op("Assign"), {e(2), e(1)}}};
  EXPECT_TRUE(p.reads_after_store(0)) << "Mul reads e0 after its first store";
  EXPECT_FALSE(p.reads_after_store(1)) << "e1 is never stored into";
  EXPECT_FALSE(p.reads_after_store(2));
  EXPECT_EQ(p.last_stores(), (std::vector<bool>{false, false, true, true}));
}

TEST(FusedProgram, RefusesOperandsThatDoNotExist) {
  Graph g;
  Output x = ops::Const(g, Tensor::zeros(DType::kFloat32, {4}));
  expect_error([&] { fused_loop(g, {x}, {{&op("Exp"), {e(3)}}}, {4}); },
               {"FusedElementwise 'fused': instruction 0 (Exp): operand external 3 does not exist"});
  expect_error([&] { fused_loop(g, {x}, {{&op("Exp"), {r(0)}}}, {4}); }, {"operand result 0 does not exist"});
  expect_error([&] { fused_loop(g, {x}, {{&op("Exp"), {e(-1)}}}, {4}); }, {"operand external -1 does not exist"});
  expect_error([&] { fused_loop(g, {x}, {}, {4}); }, {"has no instructions"});
}

TEST(FusedProgram, RefusesWrongAritiesOpsAndStores) {
  Graph g;
  Output x = ops::Const(g, Tensor::zeros(DType::kFloat32, {4}));
  Output v = ops::Variable(g, Tensor::zeros(DType::kFloat32, {4}), "v");
  Output small = ops::Variable(g, Tensor::zeros(DType::kFloat32, {1}), "small");
  expect_error([&] { fused_loop(g, {x}, {{&op("Add"), {e(0)}}}, {4}); }, {"takes 2 operands, got 1"});
  expect_error([&] { fused_loop(g, {x}, {{&op("MatMul"), {e(0), e(0)}}}, {4}); },
               {"not an elementwise op with a float32 kernel"});
  expect_error([&] { fused_loop(g, {x, v}, {{&op("Assign"), {e(0), e(0)}}}, {4}); },
               {"stores into something that is not a Variable"});
  expect_error([&] { fused_loop(g, {small, x}, {{&op("Assign"), {e(0), e(1)}}}, {4}); },
               {"stores [4] into a variable of shape [1]"});
  Output f64 = ops::Const(g, Tensor::zeros(DType::kFloat64, {4}));
  expect_error([&] { fused_loop(g, {f64}, {{&op("Exp"), {e(0)}}}, {4}); }, {"external 0 (float64[4]) is not float32"});
}

}  // namespace
}  // namespace horn
