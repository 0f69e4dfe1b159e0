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

// The model file fuzzer (tests/fuzz/model_file_fuzz.cc) reaches load_model's building path
// only from inputs that get that far: its model seeds must load whole (after the target's
// leading flag byte), and the compiled_* ones with their loss and optimizer state. The seeds are
// in this test's runfiles.
TEST(FuzzRegression, TheModelSeedsLoadWhole) {
  for (const std::string seed : {"model_0", "model_1", "compiled_dense", "compiled_conv"}) {
    std::ifstream in("tests/fuzz/corpus/model_file_fuzz/" + seed, std::ios::binary);
    ASSERT_TRUE(in) << seed;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Sequential m = load_model(write(seed + ".horn", bytes.substr(1)));
    EXPECT_EQ(m.compiled(), seed.starts_with("compiled")) << seed;
    EXPECT_GT(m.count_params(), 0) << seed;
  }
}

}  // namespace
}  // namespace horn::keras
