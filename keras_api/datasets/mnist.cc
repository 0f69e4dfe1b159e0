#include "keras_api/datasets/mnist.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace horn::keras::datasets::mnist {
namespace {

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// The file itself, or its ".gz" sibling.
std::string locate(const std::string& dir, const std::string& name) {
  for (const std::string& candidate : {dir + "/" + name, dir + "/" + name + ".gz"})
    if (exists(candidate)) return candidate;
  fail("MNIST: missing file '", dir, "/", name, "' (nor .gz); run tools/get_mnist.sh to fetch the data set");
}

uint32_t big_endian(const unsigned char* b) { return (uint32_t(b[0]) << 24) | (b[1] << 16) | (b[2] << 8) | b[3]; }

}  // namespace

std::string default_directory() {
  if (const char* root = std::getenv("HORN_DATASETS"); root && *root) return std::string(root) + "/mnist";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.horn/datasets/mnist";
}

Tensor read_idx(const std::string& path, int expected_rank) {
  // gzread reads gzip-compressed and plain files alike.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) fail("MNIST: cannot open '", path, "'");
  auto read = [&](void* dst, size_t n, const char* what) {
    const int got = gzread(f.get(), dst, static_cast<unsigned>(n));
    if (got < 0 || static_cast<size_t>(got) != n)
      fail("MNIST: '", path, "' is truncated: expected ", n, " bytes of ", what, ", got ", std::max(got, 0));
  };
  unsigned char header[4];
  read(header, 4, "header");
  const uint32_t magic = big_endian(header);
  const uint32_t want = expected_rank == 3 ? 2051 : 2049;
  if (header[0] != 0 || header[1] != 0 || header[2] != 0x08)
    fail("MNIST: '", path, "' has a bad magic number ", magic, " (expected ", want, ": unsigned bytes, rank ",
         expected_rank, ")");
  if (header[3] != expected_rank)
    fail("MNIST: '", path, "' has ", int(header[3]), " dimensions, expected ", expected_rank);
  std::vector<int64_t> dims;
  for (int d = 0; d < expected_rank; ++d) {
    unsigned char b[4];
    read(b, 4, "dimensions");
    dims.push_back(big_endian(b));
  }
  Tensor t(DType::kUInt8, Shape(dims));
  read(t.raw_data(), t.nbytes(), "data");
  unsigned char extra;
  if (gzread(f.get(), &extra, 1) > 0) fail("MNIST: '", path, "' has bytes beyond its ", t.nbytes(), " of data");
  return t;
}

std::pair<Split, Split> load_data(const std::string& directory) {
  const std::string dir = directory.empty() ? default_directory() : directory;
  auto load = [&](const std::string& images_name, const std::string& labels_name) {
    const std::string images_path = locate(dir, images_name), labels_path = locate(dir, labels_name);
    Tensor images = read_idx(images_path, 3);
    Tensor labels = read_idx(labels_path, 1);
    if (images.dim(0) != labels.dim(0))
      fail("MNIST: '", images_path, "' has ", images.dim(0), " images but '", labels_path, "' has ", labels.dim(0),
           " labels");
    const uint8_t* l = labels.data<uint8_t>();
    for (int64_t i = 0; i < labels.size(); ++i)
      if (l[i] > 9) fail("MNIST: '", labels_path, "': label ", int(l[i]), " of sample ", i, " is outside 0-9");
    return Split{images, labels};
  };
  return {load("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")};
}

}  // namespace horn::keras::datasets::mnist
