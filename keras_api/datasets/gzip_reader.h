// Reads a gzip stream held in memory, checking zlib's status on every call: a corrupt stream
// (bad deflate data, CRC-32 or length mismatch in the trailer) and a truncated one are told
// apart, and data is never returned from a stream that failed its checks at the end
// (callers call finish(), which verifies the trailer). Concatenated members are read as one
// stream, as gzip -d does.
#pragma once
#include <zlib.h>

#include <cstddef>
#include <span>
#include <string>

namespace horn::keras::datasets {

class GzipReader {
 public:
  // `name` (a path) goes into every error message.
  GzipReader(std::span<const char> compressed, std::string name);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  static bool is_gzip(std::span<const char> bytes);
  // Deflate cannot expand data more than 1032-fold: a bound on what `compressed` can hold,
  // to compare a header's announced size with before allocating anything.
  static size_t max_decompressed_size(size_t compressed_size);

  // Fills `dst` with the next `n` bytes; returns how many there were (fewer only when the
  // stream ends). Throws an Error when the stream is corrupt or truncated.
  size_t read(void* dst, size_t n);
  // Requires the end of the stream, with its trailer (CRC-32 and length) verified; throws
  // when more data follows, or the trailer is missing or wrong.
  void finish(const std::string& what_was_read);

 private:
  void inflate_some();
  z_stream z_{};
  std::string name_;
  bool ended_ = false;  // the last member's trailer was read and verified
};

}  // namespace horn::keras::datasets
