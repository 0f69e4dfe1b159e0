#include "keras_api/model_formats.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include "keras_api/h5_format.h"
#include "keras_api/keras3_format.h"
#include "keras_api/tfjs_format.h"
#include "keras_api/zip_archive.h"

namespace horn::keras {
namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The first bytes of a file, enough to tell the formats apart; empty if it cannot be opened
// (the format's own reader then reports why).
std::string first_bytes(const std::string& path, size_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string bytes(n, '\0');
  const ssize_t got = ::read(fd, bytes.data(), n);
  ::close(fd);
  bytes.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return bytes;
}

}  // namespace

ModelFormat format_of_saved_model(const std::string& path) {
  if (is_directory(path)) return ModelFormat::kTfjs;
  const std::string head = first_bytes(path, 64);
  if (head.compare(0, sizeof kHdf5Magic, kHdf5Magic, sizeof kHdf5Magic) == 0) return ModelFormat::kKerasH5;
  if (head.compare(0, sizeof ziparchive::kZipMagic, ziparchive::kZipMagic, sizeof ziparchive::kZipMagic) == 0)
    return ModelFormat::kKeras3;
  for (char c : head) {
    if (c == '{') return ModelFormat::kTfjs;
    if (!std::isspace(static_cast<unsigned char>(c))) break;
  }
  return ModelFormat::kHorn;  // including unreadable files: its reader names the problem
}

ModelFormat format_for_saving(const std::string& path) {
  // Not "any existing directory": saving over a directory by mistake stays an error.
  if (ends_with(path, "/") || ends_with(path, ".json")) return ModelFormat::kTfjs;
  if (ends_with(path, ".h5") || ends_with(path, ".hdf5") || ends_with(path, ".keras.h5")) return ModelFormat::kKerasH5;
  if (ends_with(path, ".keras")) return ModelFormat::kKeras3;
  return ModelFormat::kHorn;
}

std::string tfjs_model_json_path(const std::string& path) {
  if (ends_with(path, ".json")) return path;
  return ends_with(path, "/") ? path + "model.json" : path + "/model.json";
}

ModelFile read_any_model_file(const std::string& path) {
  switch (format_of_saved_model(path)) {
    case ModelFormat::kTfjs: return read_tfjs_model(path);
    case ModelFormat::kKerasH5: return read_keras_h5(path);
    case ModelFormat::kKeras3: return read_keras3(path);
    case ModelFormat::kHorn: break;
  }
  return read_model_file(path);
}

void write_any_model_file(const std::string& path, const ModelFile& file) {
  switch (format_for_saving(path)) {
    case ModelFormat::kTfjs: return write_tfjs_model(tfjs_model_json_path(path), file);
    case ModelFormat::kKerasH5: return write_keras_h5(path, file);
    case ModelFormat::kKeras3: return write_keras3(path, file);
    case ModelFormat::kHorn: break;
  }
  write_model_file(path, file);
}

}  // namespace horn::keras
