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

}  // namespace
}  // namespace horn
