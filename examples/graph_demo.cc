// The smallest complete Horn program: build y = softmax(x W + b), run it, print it.
#include <iostream>

#include "core/session.h"
#include "ops/ops.h"

int main() {
  using namespace horn;
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {-1, 3}, "x");
  Output w = ops::Variable(g, Tensor(Shape{3, 2}, std::vector<float>{1, -1, 0.5, 0.5, -1, 1}), "W");
  Output b = ops::Variable(g, Tensor(Shape{2}, std::vector<float>{0.1f, -0.1f}), "b");
  Output y = ops::Softmax(ops::MatMul(x, w) + b, "y");

  Session session(g);
  session.initialize_variables();
  Tensor xv(Shape{2, 3}, std::vector<float>{1, 2, 3, -1, 0, 1});
  Tensor probs = session.run({{x, xv}}, y);
  std::cout << "x =\n" << xv << "\n\ny = softmax(x W + b) =\n" << probs << "\n";
}
