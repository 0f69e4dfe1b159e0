// Hostile and damaged IDX files, raw and gzip, through mnist::read_idx: every case is refused
// with an Error naming the file, before anything large is allocated, never with wrong data.
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "keras_api/datasets/mnist.h"
#include "tests/test_util.h"

namespace horn::keras::datasets {
namespace {
using testing::expect_error;

using testing::temp_path;

std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

std::string write(const std::string& name, const std::string& bytes) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string gzip(const std::string& raw) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, raw.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// n images of 28x28 with pseudo-random pixels: deflate stores most of them as literals, so
// a flipped byte near the end changes pixels without breaking the stream's structure.
std::string images(uint32_t n) {
  std::string s = be32(2051) + be32(n) + be32(28) + be32(28);
  uint32_t x = 12345;
  for (uint32_t i = 0; i < n * 28 * 28; ++i) {
    x = x * 1103515245 + 12345;
    s += char(x >> 24);
  }
  return s;
}

TEST(IdxHostile, HugeDimensionsAreComparedWithTheFileBeforeAllocating) {
  const std::string huge = write("huge.idx", be32(2051) + be32(60000) + be32(100000) + be32(100000) + "abc");
  expect_error([&] { mnist::read_idx(huge, 3); },
               {"huge.idx", "truncated", "[60000,100000,100000]", "600000000000000 bytes", "holds 3"});
  const std::string huge_gz = write("huge.idx.gz", gzip(be32(2051) + be32(1000000) + be32(1000) + be32(1000)));
  expect_error([&] { mnist::read_idx(huge_gz, 3); }, {"huge.idx.gz", "gzip stream of", "can hold"});
}

TEST(IdxHostile, DimensionProductsThatOverflowInt64AreRefused) {
  const std::string path = write("overflow.idx", be32(2051) + be32(0xffffffff) + be32(0xffffffff) + be32(0xffffffff));
  expect_error([&] { mnist::read_idx(path, 3); }, {"overflow.idx", "int64"});
}

TEST(IdxHostile, CorruptionNearTheEndOfALargeGzipStreamIsCaughtByItsCrc) {
  const std::string raw = images(300);  // 235 KB
  std::string gz = gzip(raw);
  ASSERT_GT(gz.size(), 200000u) << "the data should not compress much";
  std::string flipped = gz;
  flipped[gz.size() - 100] ^= 0x01;  // inside the last deflate block, before the trailer
  const std::string path = write("flipped.idx.gz", flipped);
  try {
    mnist::read_idx(path, 3);
    ADD_FAILURE() << "corrupt data was returned";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("flipped.idx.gz"), std::string::npos) << msg;
    EXPECT_NE(msg.find("corrupt"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("truncated"), std::string::npos) << "corruption reported as truncation: " << msg;
  }
  std::string bad_length = gz;
  bad_length[gz.size() - 1] ^= 0x01;  // ISIZE, the trailer's length
  expect_error([&] { mnist::read_idx(write("length.idx.gz", bad_length), 3); },
               {"length.idx.gz", "corrupt", "incorrect length check"});
  std::string bad_crc = gz;
  bad_crc[gz.size() - 6] ^= 0x01;
  expect_error([&] { mnist::read_idx(write("crc.idx.gz", bad_crc), 3); },
               {"crc.idx.gz", "corrupt", "incorrect data check"});
  // The undamaged stream reads back exactly.
  Tensor t = mnist::read_idx(write("good.idx.gz", gz), 3);
  EXPECT_EQ(std::string(static_cast<const char*>(t.raw_data()), t.nbytes()), raw.substr(16));
}

TEST(IdxHostile, TruncatedStreamsAndMissingTrailersAreToldApartFromCorruptOnes) {
  const std::string gz = gzip(images(50));
  expect_error([&] { mnist::read_idx(write("half.idx.gz", gz.substr(0, gz.size() / 2)), 3); },
               {"half.idx.gz", "truncated"});
  expect_error([&] { mnist::read_idx(write("notrailer.idx.gz", gz.substr(0, gz.size() - 8)), 3); },
               {"notrailer.idx.gz", "truncated", "trailer"});
  expect_error([&] { mnist::read_idx(write("halftrailer.idx.gz", gz.substr(0, gz.size() - 3)), 3); },
               {"halftrailer.idx.gz", "truncated", "trailer"});
  expect_error([&] { mnist::read_idx(write("garbage.idx.gz", gz + "junk"), 3); },
               {"garbage.idx.gz", "corrupt", "not gzip data"});
  expect_error([&] { mnist::read_idx(write("extra.idx.gz", gzip(images(2) + "x")), 3); },
               {"extra.idx.gz", "data beyond"});
  expect_error([&] { mnist::read_idx(write("extra.idx", images(2) + "x"), 3); }, {"extra.idx", "1 bytes beyond"});
  // Concatenated members (gzip a b > c) are one stream, as gzip -d reads them.
  const std::string all = images(3);
  Tensor t = mnist::read_idx(write("members.idx.gz", gzip(all.substr(0, 1000)) + gzip(all.substr(1000))), 3);
  EXPECT_EQ(t.shape(), (Shape{3, 28, 28}));
}

TEST(IdxHostile, ADirectoryOrAMissingFileIsAnErrorNamingThePath) {
  const std::string dir = temp_path("a_directory.idx");
  std::filesystem::create_directories(dir);
  expect_error([&] { mnist::read_idx(dir, 3); }, {"a_directory.idx", "directory"});
  expect_error([&] { mnist::read_idx(temp_path("nothing.idx"), 3); }, {"nothing.idx", "No such file"});
}

}  // namespace
}  // namespace horn::keras::datasets
