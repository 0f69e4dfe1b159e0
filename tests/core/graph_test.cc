#include <string>

#include "core/compiler/compiler.h"
#include "tests/test_util.h"

namespace horn {
namespace {
using testing::expect_error;

TEST(Graph, UniqueNamesAndScopes) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 784}, "x");
  EXPECT_EQ(x.node->name, "x");
  {
    Graph::NameScope scope(g, "dense_1");
    Output w = ops::Variable(g, Tensor::zeros(DType::kFloat32, {784, 10}), "kernel");
    Output m = ops::MatMul(x, w);
    Output m2 = ops::MatMul(x, w);
    EXPECT_EQ(w.node->name, "dense_1/kernel");
    EXPECT_EQ(m.node->name, "dense_1/MatMul");
    EXPECT_EQ(m2.node->name, "dense_1/MatMul_1");
    EXPECT_EQ(m.shape(), (Shape{-1, 10}));
  }
  EXPECT_EQ(ops::Relu(x).node->name, "Relu");
  EXPECT_EQ(g.find_node("dense_1/kernel")->op_name(), "Variable");
  EXPECT_EQ(g.variables().size(), 1u);
}

TEST(Graph, ShapeErrorsAtBuildTimeNameOpNodeAndShapes) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {100, 784}, "x");
  Output w = ops::Variable(g, Tensor::zeros(DType::kFloat32, {500, 10}), "w");
  Graph::NameScope scope(g, "dense_1");
  expect_error([&] { ops::MatMul(x, w); },
               {"MatMul 'dense_1/MatMul': [100,784] x [500,10]: inner dimensions 784 and 500 differ"});
  expect_error([&] { ops::Add(x, w); }, {"Add 'dense_1/Add'", "[100,784]", "[500,10]", "broadcast"});
  Output i = ops::Const(g, Tensor::arange(DType::kInt32, 3));
  expect_error([&] { ops::Exp(i); }, {"Exp", "float32 or float64", "int32"});
  expect_error([&] { ops::Reshape(x, {13, -1}); }, {"Reshape", "cannot reshape", "78400"});
  expect_error([&] { ops::Sum(x, {2}); }, {"Sum", "axis 2", "rank 2"});
}

TEST(Graph, ToDotDrawsNodesAndEdges) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {2}, "x");
  ops::Exp(x, "e");
  const std::string dot = g.to_dot();
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("n0 -> n1"), std::string::npos);
  EXPECT_NE(dot.find("e\\nExp"), std::string::npos);
}

TEST(Attr, DoublesPrintExactlyAndShortest) {
  EXPECT_EQ(attr_to_string(0.1), "0.1");
  EXPECT_EQ(attr_to_string(1e-7), "1e-07");
  EXPECT_EQ(attr_to_string(2.0), "2");
  EXPECT_EQ(attr_to_string(0.1234567891234), "0.1234567891234");
  for (double v : {0.1234567891234, 0.00123456789012345, 1.0 / 3, -2.2250738585072014e-308, 1e300, 0.0})
    EXPECT_EQ(std::stod(exact_double_string(v)), v) << exact_double_string(v);
}

// Common-subexpression elimination keys nodes by their printed attributes: printed to 6
// digits, these two OneHots (on = ...891 and ...892) would merge and compute the same values.
TEST(Attr, CommonSubexpressionEliminationKeepsDoublesThatDifferAtTheTenthDigit) {
  Graph g;
  Output labels = ops::Placeholder(g, DType::kInt32, {3}, "labels");
  Output a = ops::OneHot(labels, 4, 0.1234567891, 0.0, DType::kFloat64, "a");
  Output b = ops::OneHot(labels, 4, 0.1234567892, 0.0, DType::kFloat64, "b");
  Output same_as_a = ops::OneHot(labels, 4, 0.1234567891, 0.0, DType::kFloat64, "same_as_a");
  std::vector<std::unique_ptr<compiler::Pass>> passes;
  passes.push_back(compiler::make_common_subexpression_elimination());
  compiler::Compilation c =
      compiler::compile(g, {a, b, same_as_a}, {}, {{labels, DType::kInt32, Shape{3}}}, std::move(passes));
  int one_hots = 0;
  for (Node* n : c.graph.live_nodes()) one_hots += n->op_name() == "OneHot";
  EXPECT_EQ(one_hots, 2) << "a and same_as_a merge, b stays";

  Session session(g);
  const Tensor indices(Shape{3}, std::vector<int32_t>{0, 1, 2});
  const std::vector<Tensor> out = session.run({{labels, indices}}, {a, b});
  EXPECT_EQ(out[0].value_as_double(0), 0.1234567891);
  EXPECT_EQ(out[1].value_as_double(0), 0.1234567892);
}

}  // namespace
}  // namespace horn
