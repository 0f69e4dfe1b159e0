#include "keras_api/datasets/idx.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "keras_api/datasets/gzip_reader.h"

namespace horn::keras::datasets {
namespace {

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

// The raw bytes or the gzip stream, read front to back.
class Source {
 public:
  Source(std::span<const char> bytes, const std::string& name) : raw_(bytes) {
    if (GzipReader::is_gzip(bytes)) gzip_.emplace(bytes, name);
  }
  size_t read(void* dst, size_t n) {
    if (gzip_) return gzip_->read(dst, n);
    n = std::min(n, raw_.size() - pos_);
    if (n) std::memcpy(dst, raw_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  // The most data bytes that can follow `consumed` bytes of header.
  size_t capacity(size_t consumed) const {
    return gzip_ ? GzipReader::max_decompressed_size(raw_.size()) : raw_.size() - consumed;
  }
  bool compressed() const { return gzip_.has_value(); }
  void finish(const std::string& name, size_t data_bytes) {
    if (gzip_) return gzip_->finish(str_cat(data_bytes, " bytes of data"));
    if (pos_ != raw_.size())
      fail("MNIST: '", name, "' has ", raw_.size() - pos_, " bytes beyond its ", data_bytes,
           " bytes of data");
  }

 private:
  std::span<const char> raw_;
  size_t pos_ = 0;
  std::optional<GzipReader> gzip_;
};

}  // namespace

Tensor parse_idx(std::span<const char> file_bytes, const std::string& name, int expected_rank) {
  Source in(file_bytes, name);
  auto read = [&](void* dst, size_t n, const char* what) {
    const size_t got = in.read(dst, n);
    if (got != n) fail("MNIST: '", name, "' is truncated: expected ", n, " bytes of ", what, ", got ", got);
  };
  unsigned char header[4];
  read(header, 4, "header");
  const uint32_t want = expected_rank == 3 ? 2051 : 2049;
  if (header[0] != 0 || header[1] != 0 || header[2] != 0x08)
    fail("MNIST: '", name, "' has a bad magic number ", big_endian(header), " (expected ", want,
         ": unsigned bytes, rank ", expected_rank, ")");
  if (header[3] != expected_rank)
    fail("MNIST: '", name, "' has ", int(header[3]), " dimensions, expected ", expected_rank);
  std::vector<int64_t> dims;
  for (int d = 0; d < expected_rank; ++d) {
    unsigned char b[4];
    read(b, 4, "dimensions");
    dims.push_back(big_endian(b));
  }
  const size_t header_size = 4 + 4 * static_cast<size_t>(expected_rank);
  const int64_t count = checked_num_elements(dims, str_cat("MNIST: '", name, "'"));
  const size_t data_bytes = static_cast<size_t>(count);  // uint8: one byte per element
  if (data_bytes > in.capacity(header_size)) {
    if (in.compressed())
      fail("MNIST: '", name, "': the header announces ", Shape(dims), " = ", data_bytes,
           " bytes of data, more ", "than a gzip stream of ", file_bytes.size(),
           " bytes can hold; the file is truncated or corrupt");
    fail("MNIST: '", name, "' is truncated: the header announces ", Shape(dims), " = ", data_bytes,
         " bytes of data, the file holds ", in.capacity(header_size));
  }
  Tensor t(DType::kUInt8, Shape(dims));
  read(t.raw_data(), t.nbytes(), "data");
  in.finish(name, data_bytes);
  return t;
}

}  // namespace horn::keras::datasets
