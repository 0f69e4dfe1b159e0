// Hostile .horn files with valid checksums (a checksum is no defence against a crafted file):
// ranks, dimensions, sizes and settings are checked before anything is allocated, and every
// error names the file.
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "keras_api/keras.h"
#include "keras_api/model_file.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using testing::expect_error;

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

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
