#include "keras_api/zip_archive.h"

#include <zip.h>

#include <cstdio>

#include "core/errors.h"

namespace horn::keras::ziparchive {
namespace {

constexpr uint64_t kMaxInflateRatio = 1032;  // deflate's largest compression ratio

std::string error_text(zip_error_t* error) {
  std::string text = zip_error_strerror(error);
  zip_error_fini(error);
  return text;
}

std::string archive_error(zip_t* archive) { return zip_error_strerror(zip_get_error(archive)); }

}  // namespace

Reader::Reader(std::span<const char> bytes, const std::string& what) : what_(what), archive_size_(bytes.size()) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) fail(what, ": cannot read the zip archive: ", error_text(&error));
  archive_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!archive_) {
    zip_source_free(source);
    fail(what, " is not a zip archive libzip can open: ", error_text(&error));
  }
  zip_error_fini(&error);
  const zip_int64_t n = zip_get_num_entries(archive_, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(archive_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS);
    names_.emplace_back(name ? name : "");
  }
}

Reader::~Reader() {
  if (archive_) zip_discard(archive_);
}

bool Reader::has(const std::string& name) const { return zip_name_locate(archive_, name.c_str(), 0) >= 0; }

std::vector<char> Reader::read(const std::string& name) const {
  const zip_int64_t index = zip_name_locate(archive_, name.c_str(), 0);
  if (index < 0) fail(what_, " has no entry '", name, "'");
  zip_stat_t st;
  zip_stat_init(&st);
  const uint64_t needed = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_ENCRYPTION_METHOD;
  if (zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &st) != 0 || (st.valid & needed) != needed)
    fail(what_, ": cannot read the directory entry of '", name, "': ", archive_error(archive_));
  if (st.encryption_method != ZIP_EM_NONE) fail(what_, ": the entry '", name, "' is encrypted");
  if (st.comp_size > archive_size_)
    fail(what_, ": the entry '", name, "' announces ", st.comp_size, " compressed bytes; the archive holds ",
         archive_size_);
  if (st.size / kMaxInflateRatio > st.comp_size)
    fail(what_, ": the entry '", name, "' announces ", st.size, " bytes from ", st.comp_size,
         " compressed bytes, more than deflate can give");
  zip_file_t* file = zip_fopen_index(archive_, static_cast<zip_uint64_t>(index), 0);
  if (!file) fail(what_, ": cannot open the entry '", name, "': ", archive_error(archive_));
  // One byte more than announced: an entry that holds more than it says is an error too.
  std::vector<char> bytes(static_cast<size_t>(st.size) + 1);
  zip_uint64_t got = 0;
  while (got < bytes.size()) {
    const zip_int64_t n = zip_fread(file, bytes.data() + got, bytes.size() - got);
    if (n < 0) {
      const std::string message = zip_error_strerror(zip_file_get_error(file));
      zip_fclose(file);
      fail(what_, ": the entry '", name, "' is damaged: ", message);
    }
    if (n == 0) break;
    got += static_cast<zip_uint64_t>(n);
  }
  zip_fclose(file);
  if (got != st.size)
    fail(what_, ": the entry '", name, "' announces ", st.size, " bytes but holds ", got > st.size ? "more" : "",
         got > st.size ? "" : std::to_string(got));
  bytes.resize(static_cast<size_t>(got));
  return bytes;
}

std::vector<char> write_stored(const std::vector<std::pair<std::string, std::span<const char>>>& entries) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) fail("cannot create a zip archive in memory: ", error_text(&error));
  zip_source_keep(buffer);  // the archive's bytes stay in it after zip_close
  zip_t* archive = zip_open_from_source(buffer, ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (!archive) {
    zip_source_free(buffer);
    fail("cannot create a zip archive in memory: ", error_text(&error));
  }
  zip_error_fini(&error);
  auto give_up = [&](const std::string& why) {
    const std::string message = why + ": " + archive_error(archive);
    zip_discard(archive);
    zip_source_free(buffer);
    fail(message);
  };
  for (const auto& [name, bytes] : entries) {
    zip_source_t* data = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    if (!data) give_up("cannot add '" + name + "' to a zip archive");
    const zip_int64_t index = zip_file_add(archive, name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      give_up("cannot add '" + name + "' to a zip archive");
    }
    if (zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0) != 0)
      give_up("cannot store '" + name + "' uncompressed");
  }
  if (zip_close(archive) != 0) give_up("cannot write a zip archive");
  std::vector<char> out;
  bool ok = zip_source_open(buffer) == 0;
  if (ok) {
    ok = zip_source_seek(buffer, 0, SEEK_END) == 0;
    const zip_int64_t size = ok ? zip_source_tell(buffer) : -1;
    ok = ok && size >= 0 && zip_source_seek(buffer, 0, SEEK_SET) == 0;
    if (ok) {
      out.resize(static_cast<size_t>(size));
      ok = zip_source_read(buffer, out.data(), out.size()) == size;
    }
    zip_source_close(buffer);
  }
  zip_source_free(buffer);
  if (!ok) fail("cannot copy a zip archive out of memory");
  return out;
}

}  // namespace horn::keras::ziparchive
