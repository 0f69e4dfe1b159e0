#include "keras_api/datasets/gzip_reader.h"

#include <algorithm>
#include <climits>

#include "core/errors.h"

namespace horn::keras::datasets {

GzipReader::GzipReader(std::span<const char> compressed, std::string name) : name_(std::move(name)) {
  if (compressed.size() > UINT_MAX) fail("'", name_, "': gzip files over 4 GiB are not supported");
  // 16 + MAX_WBITS: a gzip wrapper, whose trailer zlib verifies (CRC-32 and length).
  if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) fail("'", name_, "': cannot start zlib: out of memory");
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z_.avail_in = static_cast<uInt>(compressed.size());
}

GzipReader::~GzipReader() { inflateEnd(&z_); }

bool GzipReader::is_gzip(std::span<const char> bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

size_t GzipReader::max_decompressed_size(size_t compressed_size) {
  return compressed_size > SIZE_MAX / 1032 ? SIZE_MAX : compressed_size * 1032;
}

// One inflate call into z_.next_out/avail_out. Every status is handled: Z_STREAM_END
// moves to the next member (or ends), Z_BUF_ERROR with no input left is truncation, any
// other error is corruption.
void GzipReader::inflate_some() {
  const int rc = inflate(&z_, Z_NO_FLUSH);
  switch (rc) {
    case Z_OK:
      return;
    case Z_STREAM_END:
      if (z_.avail_in == 0) {
        ended_ = true;
        return;
      }
      if (z_.avail_in < 2 || z_.next_in[0] != 0x1f || z_.next_in[1] != 0x8b)
        fail("'", name_, "' is corrupt: ", z_.avail_in,
             " bytes that are not gzip data follow the gzip stream");
      if (inflateReset(&z_) != Z_OK) fail("'", name_, "': zlib cannot read the next gzip member");
      return;
    case Z_BUF_ERROR:
      if (z_.avail_in == 0)
        fail("'", name_, "' is truncated: the gzip stream ends before its end marker or its trailer ",
             "(after ", z_.total_out, " bytes of data)");
      fail("'", name_, "' cannot be decompressed: zlib made no progress");
    case Z_NEED_DICT:
      fail("'", name_, "' is corrupt: the gzip stream asks for a preset dictionary");
    case Z_MEM_ERROR:
      fail("'", name_, "': zlib ran out of memory");
    default:  // Z_DATA_ERROR (bad data, "incorrect data check" = CRC, "incorrect length check")
      fail("'", name_, "' is corrupt: ", z_.msg ? z_.msg : "invalid gzip data", " (after ", z_.total_out,
           " bytes of data)");
  }
}

size_t GzipReader::read(void* dst, size_t n) {
  Bytef* out = static_cast<Bytef*>(dst);
  size_t done = 0;
  while (done < n && !ended_) {
    const uInt want = static_cast<uInt>(std::min<size_t>(n - done, UINT_MAX));
    z_.next_out = out + done;
    z_.avail_out = want;
    inflate_some();
    done += want - z_.avail_out;
  }
  return done;
}

void GzipReader::finish(const std::string& what_was_read) {
  unsigned char extra;
  while (!ended_) {
    z_.next_out = &extra;
    z_.avail_out = 1;
    inflate_some();
    if (z_.avail_out == 0) fail("'", name_, "' has data beyond its ", what_was_read);
  }
}

}  // namespace horn::keras::datasets
