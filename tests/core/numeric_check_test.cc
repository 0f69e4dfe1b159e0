// SessionOptions::check_numerics and its Keras switch: the first NaN or infinity stops the
// run with an error naming the op, the node, the layer and the run; off, nothing is checked.
#include "keras_api/keras.h"
#include "tests/test_util.h"

namespace horn {
namespace {

using testing::expect_error;

TEST(CheckNumerics, NamesTheFirstOpThatMakesANanOrAnInfinity) {
  Graph g;
  Output x = ops::Placeholder(g, DType::kFloat32, {3}, "x");
  Output y;
  {
    Graph::NameScope scope(g, "layer1");
    y = ops::Sqrt(ops::Log(x));  // log(0) = -inf comes first; sqrt(-inf) = NaN after it
  }
  const Session::Feeds feeds{{x, testing::F({3}, {1, 0, 2})}};
  for (bool optimize : {false, true}) {
    Session quiet(g, {.optimize = optimize});
    EXPECT_TRUE(std::isnan(quiet.run(feeds, y).data<float>()[1])) << "off: the NaN goes through";
    Session checked(g, {.optimize = optimize, .check_numerics = true});
    checked.run({{x, testing::F({3}, {1, 4, 2})}}, y);  // finite: nothing to say
    expect_error([&] { checked.run(feeds, y); },
                 {"check_numerics: ", "(layer 'layer1') produced ", " at element 1 of output 0 [3] in run 1"});
  }
  Session reference(g, {.optimize = false, .check_numerics = true});
  expect_error([&] { reference.run(feeds, y); }, {"check_numerics: Log 'layer1/Log' (layer 'layer1') produced -inf"});
  // Compiled, Log and Sqrt are one node, which names the ops it holds; its output is Sqrt's.
  Session compiled(g, {.check_numerics = true});
  expect_error([&] { compiled.run(feeds, y); },
               {"check_numerics: FusedElementwise(Log,Sqrt) 'fused/layer1/Sqrt' (layer 'layer1') produced NaN"});
}

TEST(CheckNumerics, TracesADivergingKerasModelToItsLayer) {
  using namespace keras;
  Sequential m({.check_numerics = true});
  m.add(Dense(8, {.input_dim = 4, .activation = "relu"}));
  m.add(Dense(2, {.activation = "softmax"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = optimizers::SGD({.learning_rate = 1e30})});
  Tensor x = Tensor::uniform(DType::kFloat32, {16, 4}, 100, 1000, 1);
  Tensor y = Tensor::zeros(DType::kFloat32, {16, 2});
  for (int i = 0; i < 16; ++i) y.data<float>()[i * 2 + i % 2] = 1;
  expect_error([&] { m.fit(x, y, {.batch_size = 16, .epochs = 5, .verbose = 0}); },
               {"check_numerics: ", "(layer 'dense", "produced ", " in run "});
}

}  // namespace
}  // namespace horn
