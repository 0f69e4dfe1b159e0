// Keras's dtype policies through the public API: float32 unchanged, mixed_bfloat16's numerics
// against float32 references within bfloat16's tolerances, determinism, files and errors.
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "keras_api/keras.h"
#include "keras_api/keras_config_json.h"
#include "keras_api/model_file.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;
using testing::values;

// The global policy is process-wide: every test leaves it at float32.
struct GlobalPolicy {
  explicit GlobalPolicy(const std::string& name) { mixed_precision::set_global_policy(name); }
  ~GlobalPolicy() { mixed_precision::set_global_policy("float32"); }
};

using testing::temp_path;

struct Data {
  Tensor x, y;
};
// Three separable classes in `features` dimensions.
Data make_data(int64_t n, uint64_t seed, int64_t features = 32) {
  Tensor x = Tensor::normal(DType::kFloat32, {n, features}, 0, 0.5, seed);
  Tensor labels(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    labels.data<int32_t>()[i] = static_cast<int32_t>(i % 3);
    x.at<float>({i, i % 3}) += 2.0f;
  }
  return {x, utils::to_categorical(labels, 3)};
}

Sequential mlp(const std::string& dtype, int threads = 0, std::string optimizer = "adam") {
  Sequential m({.seed = 11, .num_threads = threads});
  m.add(Dense(24, {.input_dim = 32, .activation = "sigmoid", .dtype = dtype}));
  m.add(Dense(3, {.activation = "softmax", .dtype = dtype}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = optimizer, .metrics = {"accuracy"}});
  return m;
}

// The nodes that make bfloat16 values.
int count_bfloat16_nodes(const Graph& g) {
  int n = 0;
  for (const auto& node : g.nodes())
    for (DType t : node->output_dtypes) n += t == DType::kBFloat16;
  return n;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// What one training step changed in a weight: max |step| of the mixed model, of the float32
// model, and of their difference, all from the same start.
struct StepComparison {
  double step, step32, diff;
};
StepComparison compare_steps(const Tensor& start, const Tensor& after, const Tensor& after32) {
  const std::vector<double> s = values(start), a = values(after), a32 = values(after32);
  std::vector<double> step(s.size()), step32(s.size()), diff(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    step[i] = a[i] - s[i];
    step32[i] = a32[i] - s[i];
    diff[i] = step[i] - step32[i];
  }
  return {max_abs(step), max_abs(step32), max_abs(diff)};
}

TEST(MixedPrecision, GlobalPolicyIsFloat32ByDefaultAndLayersTakeItWhenMade) {
  EXPECT_EQ(mixed_precision::global_policy().name(), "float32");
  Dense before(4, {.input_dim = 2});
  GlobalPolicy mixed("mixed_bfloat16");
  EXPECT_EQ(mixed_precision::global_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(mixed_precision::global_policy().compute_dtype(), DType::kBFloat16);
  EXPECT_EQ(mixed_precision::global_policy().variable_dtype(), DType::kFloat32);
  Dense after(4, {.input_dim = 2});
  Dense own(4, {.input_dim = 2, .dtype = "float32"});
  Activation softmax("softmax");
  EXPECT_EQ(before.dtype_policy().name(), "float32");
  EXPECT_EQ(after.dtype_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(own.dtype_policy().name(), "float32");
  EXPECT_EQ(softmax.dtype_policy().name(), "mixed_bfloat16");
}

TEST(MixedPrecision, UnknownPoliciesAreRefusedByName) {
  expect_error([] { mixed_precision::set_global_policy("mixed_float16"); },
               {"unknown dtype policy 'mixed_float16'", "known: float32, mixed_bfloat16", "no float16"});
  expect_error([] { mixed_precision::Policy("bfloat16"); }, {"'bfloat16'", "variables stay float32"});
  EXPECT_EQ(mixed_precision::global_policy().name(), "float32") << "a refused policy changes nothing";
  expect_error([] { Dense(4, {.name = "head", .dtype = "float16"}); },
               {"Dense 'head': dtype: unknown dtype policy 'float16'", "known: float32, mixed_bfloat16"});
  expect_error([] { Conv2D(4, 3, {.dtype = "mixed_bf16"}); }, {"Conv2D", "unknown dtype policy 'mixed_bf16'"});
}

// float32 is the graph Horn always built (no bfloat16 casts), so the training run is bit for bit the
// one before policies existed; explicit and default float32 are the same run.
TEST(MixedPrecision, Float32PolicyAddsNothingToTheGraph) {
  Data d = make_data(90, 1);
  auto train = [&](Sequential m) {
    m.fit(d.x, d.y, {.batch_size = 10, .epochs = 2, .verbose = 0});
    EXPECT_EQ(count_bfloat16_nodes(m.graph()), 0);
    return m.get_weights();
  };
  std::vector<Tensor> implicit = train(mlp(""));
  std::vector<Tensor> explicit_float32 = train(mlp("float32"));
  std::vector<Tensor> global;
  {
    GlobalPolicy f32("float32");
    global = train(mlp(""));
  }
  ASSERT_EQ(implicit.size(), 4u);
  for (size_t i = 0; i < implicit.size(); ++i) {
    EXPECT_TRUE(implicit[i].bitwise_equal(explicit_float32[i])) << i;
    EXPECT_TRUE(implicit[i].bitwise_equal(global[i])) << i;
  }
}

// y = bf16(x) bf16(W) + b, accumulated in float32: within float32 rounding of the product of
// the rounded operands, and within bfloat16's tolerance of the float32 layer.
TEST(MixedPrecision, DenseMultipliesBFloat16OperandsIntoFloat32) {
  const int64_t n = 5, k = 300, units = 7;
  Sequential mixed({.seed = 3}), plain({.seed = 3});
  mixed.add(Dense(units, {.input_dim = k, .bias_initializer = "ones", .dtype = "mixed_bfloat16"}));
  plain.add(Dense(units, {.input_dim = k, .bias_initializer = "ones"}));
  const Tensor x = Tensor::uniform(DType::kFloat32, {n, k}, -1, 1, 5);
  const Tensor y = mixed.predict(x), y32 = plain.predict(x);
  EXPECT_EQ(y.dtype(), DType::kFloat32);
  EXPECT_EQ(mixed.get_weights()[0].dtype(), DType::kFloat32) << "variables stay float32";
  ASSERT_TRUE(mixed.get_weights()[0].bitwise_equal(plain.get_weights()[0]));
  const std::vector<double> xr = values(x.cast(DType::kBFloat16)), wr = values(mixed.get_weights()[0].cast(DType::kBFloat16));
  const std::vector<double> got = values(y), ref32 = values(y32);
  std::vector<double> diff32;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < units; ++j) {
      double exact = 1;  // the bias
      for (int64_t p = 0; p < k; ++p) exact += xr[i * k + p] * wr[p * units + j];
      EXPECT_NEAR(got[i * units + j], exact, 1e-5 * (1 + std::abs(exact))) << i << "," << j;
      diff32.push_back(got[i * units + j] - ref32[i * units + j]);
    }
  EXPECT_LE(max_abs(diff32), 1e-2 * max_abs(ref32)) << "bfloat16 operands: ~3 significant digits";
  EXPECT_GT(max_abs(diff32), 0) << "the product really ran on rounded operands";
  EXPECT_EQ(count_bfloat16_nodes(mixed.graph()), 2) << "casts of the input and the kernel, nothing else";
}

// One SGD step: the update of every float32 variable, computed through the casts, is the
// float32 update within bfloat16's tolerance; optimizer state stays float32.
TEST(MixedPrecision, ATrainingStepMatchesFloat32WithinBFloat16Tolerance) {
  Data d = make_data(30, 2);
  Sequential mixed = mlp("mixed_bfloat16", 0, "sgd"), plain = mlp("float32", 0, "sgd");
  const std::vector<Tensor> start = plain.get_weights();
  mixed.train_on_batch(d.x, d.y);
  plain.train_on_batch(d.x, d.y);
  const std::vector<Tensor> after = mixed.get_weights(), after32 = plain.get_weights();
  for (size_t w = 0; w < start.size(); ++w) {
    ASSERT_EQ(after[w].dtype(), DType::kFloat32);
    const StepComparison c = compare_steps(start[w], after[w], after32[w]);
    EXPECT_GT(c.step, 0) << "weight " << w << ": its gradient flowed through the casts";
    EXPECT_LE(c.diff, 2e-2 * c.step32) << "weight " << w;
  }
  Sequential adam = mlp("mixed_bfloat16");
  adam.train_on_batch(d.x, d.y);
  for (const auto& [name, t] : adam.to_model_file().tensors) EXPECT_EQ(t.dtype(), DType::kFloat32) << name;
}

// Products big enough to be split into panels (ops/matmul_op.cc) that run on both threads.
Sequential wide_mlp(int threads) {
  Sequential m({.seed = 5, .num_threads = threads});
  m.add(Dense(256, {.input_dim = 128, .activation = "sigmoid", .dtype = "mixed_bfloat16"}));
  m.add(Dense(3, {.activation = "softmax", .dtype = "mixed_bfloat16"}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam", .metrics = {"accuracy"}});
  return m;
}

TEST(MixedPrecision, TrainsAndIsDeterministicForAnyThreadCount) {
  Data d = make_data(120, 3);
  Sequential small = mlp("mixed_bfloat16");
  small.fit(d.x, d.y, {.batch_size = 10, .epochs = 25, .verbose = 0});
  EXPECT_GE(small.evaluate(d.x, d.y, {.verbose = 0})[1], 0.95);
  Data wide = make_data(600, 3, 128);
  auto train = [&](int threads) {
    Sequential m = wide_mlp(threads);
    m.fit(wide.x, wide.y, {.batch_size = 200, .epochs = 3, .verbose = 0});
    return m.get_weights();
  };
  const std::vector<Tensor> one = train(1), two = train(2);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i].bitwise_equal(two[i])) << "weight " << i;
}

// The compiled plan (fused epilogues, the bfloat16 GEMM's panels on oneTBB) against the
// reference interpreter, over several training steps.
TEST(MixedPrecision, CompiledTrainingStepsEqualTheReferenceInterpreter) {
  Data d = make_data(200, 4, 128);
  Sequential m = wide_mlp(2);
  Session compiled(m.graph(), {.num_threads = 2}), reference(m.graph(), {.num_threads = 1, .optimize = false});
  compiled.initialize_variables();
  reference.initialize_variables();
  const Session::Feeds feeds{
      {m.input(), d.x}, {m.target(), d.y}, {m.sample_weights(), Tensor::fill(DType::kFloat32, {d.x.dim(0)}, 1.0)}};
  for (int step = 0; step < 3; ++step) {
    const Tensor a = compiled.run(feeds, {m.total_loss()}, m.training_updates())[0];
    const Tensor b = reference.run(feeds, {m.total_loss()}, m.training_updates())[0];
    EXPECT_TRUE(a.bitwise_equal(b)) << "loss of step " << step;
  }
  // The kernel gradient's rounding to bfloat16 is read twice by Adam (m and v); it still joins
  // the update, and the update joins the GEMM that makes the gradient: one node.
  const std::string plan = compiled.plan_summary(feeds, {m.total_loss()}, m.training_updates()).to_string();
  EXPECT_NE(plan.find("fused/gradients/dense_1/MatMul/MatMul_1 <- MatMul,Mul,Mul,RoundToBFloat16,"), std::string::npos)
      << plan;
  std::vector<Output> weights;
  for (const auto& layer : m.layers())
    for (const Output& w : layer->weights()) weights.push_back(w);
  const std::vector<Tensor> a = compiled.run({}, weights), b = reference.run({}, weights);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].bitwise_equal(b[i])) << weights[i].name();
}

// A small CNN: two convolutions (the second needs its input gradient), pooling, Dense.
Sequential cnn(const std::string& dtype, int threads = 0, std::string optimizer = "adam") {
  Sequential m({.seed = 13, .num_threads = threads});
  m.add(Conv2D(8, 3, {.activation = "relu", .input_shape = {12, 12, 2}, .dtype = dtype}));
  m.add(Conv2D(16, 3, {.padding = "same", .activation = "relu", .dtype = dtype}));
  m.add(MaxPooling2D());
  m.add(Flatten());
  m.add(Dense(3, {.activation = "softmax", .dtype = dtype}));
  m.compile({.loss = "categorical_crossentropy", .optimizer = optimizer, .metrics = {"accuracy"}});
  return m;
}

// Three classes of 12x12x2 images, told apart by which rows are bright.
Data make_images(int64_t n, uint64_t seed) {
  Tensor x = Tensor::normal(DType::kFloat32, {n, 12, 12, 2}, 0, 0.5, seed);
  Tensor labels(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 3;
    labels.data<int32_t>()[i] = static_cast<int32_t>(label);
    for (int64_t r = 4 * label; r < 4 * label + 4; ++r)
      for (int64_t c = 0; c < 12; ++c) x.at<float>({i, r, c, 0}) += 1.5f;
  }
  return {x, utils::to_categorical(labels, 3)};
}

// y = conv(bf16(x), bf16(W)) + b, accumulated in float32: within bfloat16's tolerance of the
// float32 layer, and not equal to it.
TEST(MixedPrecision, Conv2DConvolvesBFloat16OperandsIntoFloat32) {
  Sequential mixed({.seed = 3}), plain({.seed = 3});
  mixed.add(Conv2D(6, 3, {.padding = "same", .bias_initializer = "ones", .input_shape = {9, 9, 4},
                          .dtype = "mixed_bfloat16"}));
  plain.add(Conv2D(6, 3, {.padding = "same", .bias_initializer = "ones", .input_shape = {9, 9, 4}}));
  const Tensor x = Tensor::uniform(DType::kFloat32, {5, 9, 9, 4}, -1, 1, 5);
  const Tensor y = mixed.predict(x), y32 = plain.predict(x);
  EXPECT_EQ(y.dtype(), DType::kFloat32);
  ASSERT_TRUE(mixed.get_weights()[0].bitwise_equal(plain.get_weights()[0]));
  const std::vector<double> got = values(y), ref32 = values(y32);
  std::vector<double> diff32(got.size());
  for (size_t i = 0; i < got.size(); ++i) diff32[i] = got[i] - ref32[i];
  EXPECT_LE(max_abs(diff32), 1e-2 * max_abs(ref32)) << "bfloat16 operands: ~3 significant digits";
  EXPECT_GT(max_abs(diff32), 0) << "the convolution really ran on rounded operands";
  EXPECT_EQ(count_bfloat16_nodes(mixed.graph()), 2) << "casts of the input and the kernel, nothing else";
}

// One SGD step of the CNN: every float32 variable's update within bfloat16's tolerance of the
// float32 model's; then training reaches the float32 model's accuracy, with the same bits
// for any thread count.
TEST(MixedPrecision, ACnnTrainingStepMatchesFloat32AndTrainsDeterministically) {
  Data d = make_images(30, 2);
  Sequential mixed = cnn("mixed_bfloat16", 0, "sgd"), plain = cnn("float32", 0, "sgd");
  const std::vector<Tensor> start = plain.get_weights();
  mixed.train_on_batch(d.x, d.y);
  plain.train_on_batch(d.x, d.y);
  const std::vector<Tensor> after = mixed.get_weights(), after32 = plain.get_weights();
  ASSERT_EQ(start.size(), 6u);
  std::vector<double> step_scale;  // max |float32 step| of each weight so far
  for (size_t w = 0; w < start.size(); ++w) {
    ASSERT_EQ(after[w].dtype(), DType::kFloat32);
    const StepComparison c = compare_steps(start[w], after[w], after32[w]);
    EXPECT_GT(c.step, 0) << "weight " << w << ": its gradient flowed through the casts";
    // A convolution's bias gradient sums dY over every pixel of the batch and mostly
    // cancels: its error is bfloat16's on the terms, of the size of the kernel's step
    // (weight w - 1), not of the small sum.
    const double scale = w == 1 || w == 3 ? step_scale[w - 1] : 0;
    EXPECT_LE(c.diff, 3e-2 * std::max(c.step32, scale)) << "weight " << w;
    step_scale.push_back(c.step32);
  }
  Data train = make_images(150, 3);
  auto fit = [&](int threads) {
    Sequential m = cnn("mixed_bfloat16", threads);
    m.fit(train.x, train.y, {.batch_size = 50, .epochs = 6, .verbose = 0});
    return m;
  };
  Sequential one = fit(1), two = fit(2);
  EXPECT_GE(one.evaluate(train.x, train.y, {.verbose = 0})[1], 0.95);
  const std::vector<Tensor> w1 = one.get_weights(), w2 = two.get_weights();
  for (size_t i = 0; i < w1.size(); ++i) EXPECT_TRUE(w1[i].bitwise_equal(w2[i])) << "weight " << i;
}

TEST(MixedPrecision, PolicyRoundTripsThroughHornAndKerasFiles) {
  Data d = make_data(30, 5);
  Sequential m({.seed = 4});
  {
    GlobalPolicy mixed("mixed_bfloat16");
    m.add(Dense(8, {.input_dim = 32, .activation = "relu"}));
    m.add(Dense(3, {.activation = "softmax", .dtype = "float32"}));  // Keras's advice for the head
  }
  m.compile({.loss = "categorical_crossentropy", .optimizer = "adam"});
  m.train_on_batch(d.x, d.y);
  const Tensor y = m.predict(d.x);
  for (const std::string name : {"policy.horn", "policy.h5"}) {
    const std::string path = temp_path(name);
    m.save(path);
    Sequential again = load_model(path);  // under the float32 global policy
    ASSERT_EQ(again.layers().size(), 2u);
    EXPECT_EQ(again.layers()[0]->dtype_policy().name(), "mixed_bfloat16") << name;
    EXPECT_EQ(again.layers()[1]->dtype_policy().name(), "float32") << name;
    EXPECT_TRUE(again.predict(d.x).bitwise_equal(y)) << name;
  }
  // A float32 model loaded while the global policy is mixed stays float32.
  Sequential plain({.seed = 4});
  plain.add(Dense(3, {.input_dim = 32}));
  plain.save(temp_path("plain.horn"));
  GlobalPolicy mixed("mixed_bfloat16");
  EXPECT_EQ(load_model(temp_path("plain.horn")).layers()[0]->dtype_policy().name(), "float32");
}

// Keras 2 writes a policy as a Policy object and float32 as a string; Keras 3's DTypePolicy
// is read too; TensorFlow.js has no policies, so exporting one is refused.
TEST(MixedPrecision, KerasJsonSpellingsAndRefusals) {
  Sequential m({.seed = 4});
  m.add(Dense(8, {.input_dim = 32, .dtype = "mixed_bfloat16"}));
  m.add(Dense(3, {.activation = "softmax"}));
  m.build();
  const nlohmann::json config = keras_model_config(m.to_model_file());
  const nlohmann::json& layers = config["config"]["layers"];
  EXPECT_EQ(layers[0]["config"]["dtype"],
            nlohmann::json::parse(R"({"class_name": "Policy", "config": {"name": "mixed_bfloat16"}})"));
  EXPECT_EQ(layers[1]["config"]["dtype"], "float32");

  auto read = [](const std::string& dtype) {
    ModelFile file;
    read_keras_model_config(nlohmann::json::parse(R"({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 3],
                                           "dtype": )" + dtype + "}}]}}"),
                            &file);
    return file.layers.at(0);
  };
  EXPECT_EQ(read(R"({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"}})").at("dtype"),
            "mixed_bfloat16");
  EXPECT_EQ(read(R"("float32")").count("dtype"), 0u);
  expect_error([&] { read(R"({"class_name": "Policy", "config": {"name": "mixed_float16"}})"); },
               {"'d'", "dtype \"mixed_float16\" is not supported", "float32 and mixed_bfloat16"});
  expect_error([&] { m.save(temp_path("tfjs_policy") + "/"); },
               {"layer 'dense_1'", "dtype policy \"mixed_bfloat16\"", "TensorFlow.js lacks"});
}

}  // namespace
}  // namespace horn::keras
