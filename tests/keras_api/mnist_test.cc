// The IDX loader on small files written here (raw and gzip), and every bad-file error.
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "keras_api/datasets/fashion_mnist.h"
#include "keras_api/datasets/mnist.h"
#include "keras_api/utils.h"
#include "tests/test_util.h"

namespace horn::keras::datasets {
namespace {
using testing::expect_error;

std::string make_dir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp ? tmp : "/tmp") + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

std::string idx_images(uint32_t n, uint32_t rows, uint32_t cols, int fill_seed = 0) {
  std::string s = be32(2051) + be32(n) + be32(rows) + be32(cols);
  for (uint32_t i = 0; i < n * rows * cols; ++i) s += char((i + fill_seed) % 256);
  return s;
}

std::string idx_labels(const std::vector<uint8_t>& labels) {
  std::string s = be32(2049) + be32(static_cast<uint32_t>(labels.size()));
  for (uint8_t l : labels) s += char(l);
  return s;
}

void write(const std::string& path, const std::string& bytes, bool gzip = false) {
  if (!gzip) {
    std::ofstream(path, std::ios::binary) << bytes;
    return;
  }
  gzFile f = gzopen((path + ".gz").c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// A complete tiny data set: 3 training and 2 test images of 2x2.
std::string make_dataset(const std::string& name, bool gzip) {
  const std::string dir = make_dir(name);
  write(dir + "/train-images-idx3-ubyte", idx_images(3, 2, 2), gzip);
  write(dir + "/train-labels-idx1-ubyte", idx_labels({5, 0, 9}), gzip);
  write(dir + "/t10k-images-idx3-ubyte", idx_images(2, 2, 2, 7), gzip);
  write(dir + "/t10k-labels-idx1-ubyte", idx_labels({1, 2}), gzip);
  return dir;
}

TEST(Mnist, LoadsRawAndGzipFilesAsKerasDoes) {
  for (bool gzip : {false, true}) {
    auto [train, test] = mnist::load_data(make_dataset(gzip ? "gz" : "raw", gzip));
    EXPECT_EQ(train.first.shape(), (Shape{3, 2, 2}));
    EXPECT_EQ(train.first.dtype(), DType::kUInt8);
    EXPECT_EQ(train.second.shape(), (Shape{3}));
    EXPECT_EQ((train.first.at<uint8_t>({1, 0, 1})), 5);
    testing::expect_near(train.second, {3}, {5, 0, 9});
    EXPECT_EQ(test.first.shape(), (Shape{2, 2, 2}));
    EXPECT_EQ((test.first.at<uint8_t>({0, 0, 0})), 7);
  }
}

TEST(Mnist, BadFilesGetErrorsNamingTheFileAndTheProblem) {
  const std::string dir = make_dataset("bad", false);
  expect_error([&] { mnist::load_data(make_dir("empty")); }, {"missing file", "train-images-idx3-ubyte", "get_mnist"});
  const std::string images = dir + "/train-images-idx3-ubyte", labels = dir + "/train-labels-idx1-ubyte";
  write(images, be32(2049) + be32(3) + be32(2) + be32(2) + std::string(12, 0));
  expect_error([&] { mnist::load_data(dir); }, {"train-images-idx3-ubyte", "dimensions", "expected 3"});
  write(images, be32(0x12345678) + std::string(12, 0));
  expect_error([&] { mnist::load_data(dir); }, {"train-images-idx3-ubyte", "bad magic"});
  write(images, idx_images(3, 2, 2).substr(0, 20));
  expect_error([&] { mnist::load_data(dir); }, {"train-images-idx3-ubyte", "truncated"});
  write(images, idx_images(4, 2, 2));
  expect_error([&] { mnist::load_data(dir); }, {"4 images", "3 labels"});
  write(images, idx_images(3, 2, 2));
  write(labels, idx_labels({5, 10, 9}));
  expect_error([&] { mnist::load_data(dir); }, {"train-labels-idx1-ubyte", "label 10", "sample 1", "0-9"});
  write(labels, idx_labels({5, 0, 9}) + "x");
  expect_error([&] { mnist::load_data(dir); }, {"train-labels-idx1-ubyte", "beyond"});
}

TEST(FashionMnist, LoadsFromADirectoryAndNamesItselfInErrors) {
  auto [train, test] = fashion_mnist::load_data(make_dataset("fashion", true));
  EXPECT_EQ(train.first.shape(), (Shape{3, 2, 2}));
  testing::expect_near(test.second, {2}, {1, 2});
  expect_error([&] { fashion_mnist::load_data(make_dir("fashion_empty")); },
               {"Fashion-MNIST", "missing file", "dataset-fashion-mnist"});
}

// The real data set, from Debian's dataset-fashion-mnist (tools/setup.sh installs it).
TEST(FashionMnist, LoadsDebiansDataSetAsKerasDoes) {
  auto [train, test] = fashion_mnist::load_data();
  EXPECT_EQ(train.first.shape(), (Shape{60000, 28, 28}));
  EXPECT_EQ(train.second.shape(), (Shape{60000}));
  EXPECT_EQ(test.first.shape(), (Shape{10000, 28, 28}));
  // The training labels are balanced: 6,000 of each of the ten classes.
  std::vector<int> count(10);
  for (uint8_t l : train.second.flat<uint8_t>()) ++count[l];
  EXPECT_EQ(count, std::vector<int>(10, 6000));
}

TEST(Utils, ToCategoricalAndFlattenAndScale) {
  Tensor labels(Shape{3}, std::vector<uint8_t>{2, 0, 1});
  testing::expect_near(utils::to_categorical(labels, 3), {3, 3}, {0, 0, 1, 1, 0, 0, 0, 1, 0});
  expect_error([&] { utils::to_categorical(labels, 2); }, {"label 2", "0..1"});
  Tensor images(Shape{2, 2, 2}, std::vector<uint8_t>{0, 255, 51, 102, 0, 0, 0, 255});
  testing::expect_near(utils::flatten_and_scale(images, 1.0 / 255), {2, 4}, {0, 1, 0.2, 0.4, 0, 0, 0, 1});
}

}  // namespace
}  // namespace horn::keras::datasets
