// Inputs the fuzzers (tests/fuzz/) found crashing or misbehaving, fed through the public API:
// each must now be a clean Error. Add every new finding here.
#include <filesystem>
#include <fstream>

#include "keras_api/datasets/mnist.h"
#include "keras_api/keras.h"
#include "keras_api/model_file.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

std::string write(const std::string& name, const std::string& bytes) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(FuzzRegression, EmptyAndTinyInputsAreCleanErrors) {
  for (const std::string& bytes : {std::string(), std::string("\x1f\x8b", 2), std::string("\0\0\x08", 3)}) {
    const std::string path = write("tiny.idx", bytes);
    expect_error([&] { datasets::mnist::read_idx(path, 3); }, {"tiny.idx"});
    expect_error([&] { load_model(path); }, {"tiny.idx"});
  }
  expect_error([] { ModelCheckpoint c("{"); }, {"never closed"});
}

// A model_file_fuzz input as a .horn file: the target's leading flag byte dropped. The corpus
// is in this test's runfiles.
std::string model_seed_as_file(const std::string& seed) {
  std::ifstream in("tests/fuzz/corpus/model_file_fuzz/" + seed, std::ios::binary);
  EXPECT_TRUE(in) << seed;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return write(seed + ".horn", bytes.empty() ? bytes : bytes.substr(1));
}

// The model file fuzzer (tests/fuzz/model_file_fuzz.cc) reaches load_model's building path
// only from inputs that get that far: its model seeds must load whole, and the compiled_* ones
// with their loss and optimizer state.
TEST(FuzzRegression, TheModelSeedsLoadWhole) {
  for (const std::string seed : {"model_0", "model_1", "compiled_dense", "compiled_conv"}) {
    Sequential m = load_model(model_seed_as_file(seed));
    EXPECT_EQ(m.compiled(), seed.starts_with("compiled")) << seed;
    EXPECT_GT(m.count_params(), 0) << seed;
  }
}

// compiled_dense with dense_2's units raised to 2^31: load_model allocated the 32 GB kernel
// before comparing it with the file (an out-of-memory crash under the fuzzer's ASan).
TEST(FuzzRegression, ALayerClaimingHugeWeightsIsRefusedBeforeAllocating) {
  const std::string path = model_seed_as_file("huge_units");
  expect_error([&] { load_model(path); },
               {path, "layer 'dense_2' (Dense) weight 'kernel'", "needs float32[4,2147483648]",
                "the file holds float32[4,2]"});
}

}  // namespace
}  // namespace horn::keras
