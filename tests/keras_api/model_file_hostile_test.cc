// Hostile .horn files with valid checksums (a checksum is no defence against a crafted file):
// ranks, dimensions, sizes and settings are checked before anything is allocated, and every
// error names the file.
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "keras_api/keras.h"
#include "keras_api/model_file.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

using testing::temp_path;

constexpr size_t kHeaderSize = 24;  // magic, version, payload size, CRC

std::string write_with_crc(const std::string& name, std::vector<char> bytes) {
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data() + kHeaderSize), bytes.size() - kHeaderSize));
  std::memcpy(bytes.data() + 20, &crc, 4);
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// A file with no settings or layers and one float tensor "w" of shape [2,3]: returns its
// bytes and the offset of the tensor's rank field.
std::vector<char> one_tensor_file(size_t* rank_offset) {
  ModelFile f;
  f.tensors.emplace_back("w", Tensor(DType::kFloat32, Shape{2, 3}));
  std::vector<char> bytes = serialize_model_file(f);
  *rank_offset = kHeaderSize + 4 + 4 + 4 + (4 + 1) + 1;  // counts, name "w", dtype
  return bytes;
}

template <typename T>
void put(std::vector<char>& bytes, size_t offset, T v) {
  std::memcpy(bytes.data() + offset, &v, sizeof v);
}

TEST(ModelFileHostile, AHugeRankIsComparedWithTheBytesLeft) {
  size_t at;
  std::vector<char> bytes = one_tensor_file(&at);
  put<uint32_t>(bytes, at, 0xffffffffu);
  expect_error([&] { read_model_file(write_with_crc("rank.horn", bytes)); },
               {"rank.horn", "truncated while reading a tensor shape"});
}

TEST(ModelFileHostile, DimensionsThatOverflowOrAreNegativeAreRefused) {
  size_t at;
  std::vector<char> bytes = one_tensor_file(&at);
  put<int64_t>(bytes, at + 4, int64_t{1} << 40);
  put<int64_t>(bytes, at + 12, int64_t{1} << 40);
  expect_error([&] { read_model_file(write_with_crc("overflow.horn", bytes)); },
               {"overflow.horn", "tensor 'w'", "int64"});
  put<int64_t>(bytes, at + 4, -2);
  put<int64_t>(bytes, at + 12, -3);
  expect_error([&] { read_model_file(write_with_crc("negative.horn", bytes)); },
               {"negative.horn", "tensor 'w'", "negative"});
}

TEST(ModelFileHostile, AHugeTensorIsComparedWithTheFileBeforeAllocating) {
  size_t at;
  std::vector<char> bytes = one_tensor_file(&at);
  put<int64_t>(bytes, at + 4, int64_t{1} << 20);
  put<int64_t>(bytes, at + 12, int64_t{1} << 20);  // 4 TiB of floats
  put<uint64_t>(bytes, at + 20, uint64_t{4} << 40);
  expect_error([&] { read_model_file(write_with_crc("huge.horn", bytes)); },
               {"huge.horn", "truncated while reading tensor data"});
  put<uint64_t>(bytes, at + 20, 7);
  expect_error([&] { read_model_file(write_with_crc("size.horn", bytes)); },
               {"size.horn", "tensor 'w' has 7 bytes", "needs 4398046511104"});
}

TEST(ModelFileHostile, BadSettingsAndLayerConfigsNameTheFile) {
  Sequential m({.seed = 3});
  m.add(Dense(2, {.input_dim = 3}));
  const std::string good = temp_path("good_model.horn");
  m.save(good);
  ModelFile f = read_model_file(good);
  ModelFile bad_seed = f;
  bad_seed.settings["seed"] = "12abc";
  write_model_file(temp_path("seed.horn"), bad_seed);
  expect_error([&] { load_model(temp_path("seed.horn")); }, {"seed.horn", "'seed'", "12abc"});
  ModelFile bad_units = f;
  bad_units.layers[0]["units"] = "many";
  write_model_file(temp_path("units.horn"), bad_units);
  expect_error([&] { load_model(temp_path("units.horn")); }, {"units.horn", "layer 0"});
  ModelFile bad_shape = f;
  bad_shape.tensors[0].second = Tensor(DType::kFloat32, Shape{5, 5});
  write_model_file(temp_path("shape.horn"), bad_shape);
  expect_error([&] { load_model(temp_path("shape.horn")); }, {"shape.horn", "[5,5]", "[3,2]"});
}

// A small saved model whose layer configs the tests below make hostile.
ModelFile saved(const std::string& name, Sequential& m) {
  const std::string path = temp_path(name);
  m.save(path);
  return read_model_file(path);
}

std::string rewrite(const std::string& name, const ModelFile& f) {
  write_model_file(temp_path(name), f);
  return temp_path(name);
}

// The layers' weight shapes come from the file's configs: a layer claiming a huge size must be
// refused by comparing with the tensors the file holds, before any variable is allocated (at
// 2^40 units the old order failed in the allocator, at 2^31 it filled 25 GB with random values).
TEST(ModelFileHostile, ALayerClaimingHugeWeightsIsRefusedBeforeAllocating) {
  Sequential m({.seed = 3});
  m.add(Dense(2, {.input_dim = 3}));
  const ModelFile f = saved("small_dense.horn", m);
  for (int64_t units : {int64_t{1} << 31, int64_t{1} << 40}) {
    ModelFile huge = f;
    huge.layers[0]["units"] = std::to_string(units);
    const std::string path = rewrite("huge_units.horn", huge);
    expect_error([&] { load_model(path); },
                 {"model file '" + path + "'", "layer 'dense_1' (Dense) weight 'kernel'",
                  "needs float32[3," + std::to_string(units) + "] (" + std::to_string(12 * units) + " bytes)",
                  "the file holds float32[3,2] (24 bytes)"});
  }
}

TEST(ModelFileHostile, WeightSizesThatOverflowAreRefusedNamingTheLayer) {
  Sequential m({.seed = 3});
  m.add(Dense(2, {.input_dim = 3}));
  const ModelFile f = saved("overflow_dense.horn", m);
  ModelFile elements = f;
  elements.layers[0]["units"] = std::to_string(int64_t{1} << 62);  // 3 * 2^62 elements
  expect_error([&] { load_model(rewrite("elements.horn", elements)); },
               {"elements.horn", "layer 'dense_1' (Dense) weight 'kernel'", "int64"});
  ModelFile bytes = f;
  bytes.layers[0]["units"] = std::to_string(int64_t{1} << 61);
  bytes.layers[0]["input_shape"] = "2";  // 2^62 floats: 2^64 bytes
  expect_error([&] { load_model(rewrite("bytes.horn", bytes)); },
               {"bytes.horn", "layer 'dense_1' (Dense) weight 'kernel'", "more bytes than memory can hold"});
}

TEST(ModelFileHostile, AMissingWeightIsNamedBeforeBuilding) {
  Sequential m({.seed = 3});
  m.add(Dense(2, {.input_dim = 3}));
  ModelFile f = saved("missing_bias.horn", m);
  f.tensors.erase(f.tensors.begin() + 1);  // dense_1/bias
  expect_error([&] { load_model(rewrite("missing_bias.horn", f)); },
               {"missing_bias.horn", "layer 'dense_1' (Dense) weight 'bias'", "needs float32[2] (8 bytes)",
                "no tensor 'dense_1/bias'"});
}

// Convolutional and normalization layers take their weights' sizes from the configs too, and
// window and padding arithmetic on hostile sizes must be refused, not wrap.
TEST(ModelFileHostile, ConvolutionAndPaddingSizesAreCheckedBeforeBuilding) {
  Sequential m({.seed = 3});
  m.add(Conv2D(2, 3, {.input_shape = {5, 5, 1}}));
  m.add(ZeroPadding2D(1));
  m.add(BatchNormalization());
  const ModelFile f = saved("conv.horn", m);
  ModelFile filters = f;
  filters.layers[0]["filters"] = std::to_string(int64_t{1} << 31);
  expect_error([&] { load_model(rewrite("filters.horn", filters)); },
               {"filters.horn", "layer 'conv2d_1' (Conv2D) weight 'kernel'",
                "needs float32[3,3,1,2147483648]", "the file holds float32[3,3,1,2]"});
  ModelFile padding = f;
  padding.layers[1]["padding"] = "1," + std::to_string(std::numeric_limits<int64_t>::max()) + ",0,0";
  expect_error([&] { load_model(rewrite("padding.horn", padding)); },
               {"padding.horn", "ZeroPadding2D 'zero_padding2d_1'", "does not fit in an int64"});
  ModelFile window = f;
  window.layers[0]["dilation_rate"] = std::to_string(int64_t{1} << 62) + ",1";
  expect_error([&] { load_model(rewrite("window.horn", window)); },
               {"window.horn", "Conv2D 'conv2d_1'", "does not fit in an int64"});
  ModelFile features = f;
  features.layers[0]["input_shape"] = "5,5,1000000";  // the kernel and BatchNormalization grow
  expect_error([&] { load_model(rewrite("features.horn", features)); },
               {"features.horn", "layer 'conv2d_1' (Conv2D) weight 'kernel'",
                "needs float32[3,3,1000000,2]"});
}

TEST(ModelFileHostile, ReshapeTargetsThatOverflowAreRefused) {
  Sequential m({.seed = 3});
  m.add(Reshape({2, 3}, {.input_shape = {6}}));
  m.add(Flatten());
  ModelFile f = saved("reshape.horn", m);
  f.layers[0]["target_shape"] = std::to_string(int64_t{1} << 32) + "," + std::to_string(int64_t{1} << 32);
  expect_error([&] { load_model(rewrite("reshape_overflow.horn", f)); },
               {"reshape_overflow.horn", "Reshape 'reshape_1'", "int64"});
}

TEST(ModelFileHostile, ADirectoryIsAnErrorNamingThePath) {
  const std::string dir = temp_path("model_dir.horn");
  std::filesystem::create_directories(dir);
  expect_error([&] { load_model(dir); }, {"model_dir.horn", "directory"});
  Sequential m;
  m.add(Dense(2, {.input_dim = 3}));
  expect_error([&] { m.load_weights(dir); }, {"model_dir.horn", "directory"});
}

}  // namespace
}  // namespace horn::keras
