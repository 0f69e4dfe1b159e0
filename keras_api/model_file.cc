#include "keras_api/model_file.h"

#include <zlib.h>

#include <charconv>
#include <cstring>

#include "keras_api/learning_rate_schedules.h"

namespace horn::keras {
namespace {

constexpr char kMagic[8] = {'H', 'O', 'R', 'N', 'M', 'O', 'D', 'L'};

class Writer {
 public:
  template <typename T>
  void put(T v) {
    const char* p = reinterpret_cast<const char*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void put_raw(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    bytes_.insert(bytes_.end(), c, c + n);
  }
  std::vector<char>& bytes() { return bytes_; }

 private:
  std::vector<char> bytes_;
};

class Reader {
 public:
  Reader(const std::string& path, const char* data, size_t size) : path_(path), p_(data), end_(data + size) {}
  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  std::string get_string(const char* what) {
    const uint32_t n = get<uint32_t>(what);
    need(n, what);
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  const char* take(size_t n, const char* what) {
    need(n, what);
    const char* at = p_;
    p_ += n;
    return at;
  }
  bool at_end() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  void need(size_t n, const char* what) {
    if (remaining() < n)
      fail("model file '", path_, "': truncated while reading ", what, ": ", n, " bytes needed, ",
           remaining(), " left");
  }

 private:
  std::string path_;
  const char* p_;
  const char* end_;
};

}  // namespace

std::vector<char> serialize_model_file(const ModelFile& file) {
  Writer payload;
  payload.put<uint32_t>(static_cast<uint32_t>(file.settings.size()));
  for (const auto& [k, v] : file.settings) {
    payload.put_string(k);
    payload.put_string(v);
  }
  payload.put<uint32_t>(static_cast<uint32_t>(file.layers.size()));
  for (const LayerConfig& layer : file.layers) {
    payload.put<uint32_t>(static_cast<uint32_t>(layer.size()));
    for (const auto& [k, v] : layer) {
      payload.put_string(k);
      payload.put_string(v);
    }
  }
  payload.put<uint32_t>(static_cast<uint32_t>(file.tensors.size()));
  for (const auto& [name, t] : file.tensors) {
    payload.put_string(name);
    payload.put<uint8_t>(static_cast<uint8_t>(t.dtype()));
    payload.put<uint32_t>(static_cast<uint32_t>(t.rank()));
    for (int64_t d : t.shape().dims()) payload.put<int64_t>(d);
    payload.put<uint64_t>(t.nbytes());
    payload.put_raw(t.raw_data(), t.nbytes());
  }
  const std::vector<char>& body = payload.bytes();
  Writer header;
  header.put_raw(kMagic, sizeof kMagic);
  header.put<uint32_t>(kModelFileVersion);
  header.put<uint64_t>(body.size());
  header.put<uint32_t>(static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(body.data()), body.size())));

  std::vector<char> bytes = std::move(header.bytes());
  bytes.insert(bytes.end(), body.begin(), body.end());
  return bytes;
}

void write_model_file(const std::string& path, const ModelFile& file, const FileSystemCalls& calls) {
  write_file_atomically(path, serialize_model_file(file), "model file", calls);
}

ModelFile read_model_file(const std::string& path, const FileSystemCalls& calls) {
  return parse_model_file(read_whole_file(path, "model file", calls), path);
}

ModelFile parse_model_file(std::span<const char> bytes, const std::string& path) {
  Reader header(path, bytes.data(), bytes.size());
  const char* magic = header.take(sizeof kMagic, "the header");
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) fail("model file '", path, "': not a Horn model file (bad magic)");
  const uint32_t version = header.get<uint32_t>("the header");
  if (version != kModelFileVersion)
    fail("model file '", path, "': format version ", version, " is not supported (this Horn reads version ",
         kModelFileVersion, ")");
  const uint64_t size = header.get<uint64_t>("the header");
  const uint32_t crc = header.get<uint32_t>("the header");
  const size_t header_size = sizeof kMagic + 4 + 8 + 4;
  if (bytes.size() - header_size != size)
    fail("model file '", path, "': truncated or padded: the header announces ", size, " bytes of data, the file has ",
         bytes.size() - header_size);
  const char* body = bytes.data() + header_size;
  if (crc32(0L, reinterpret_cast<const Bytef*>(body), size) != crc)
    fail("model file '", path, "': checksum mismatch: the file is corrupt");

  ModelFile file;
  Reader r(path, body, size);
  for (uint32_t n = r.get<uint32_t>("settings"), i = 0; i < n; ++i) {
    std::string k = r.get_string("a setting");
    file.settings[k] = r.get_string("a setting");
  }
  for (uint32_t n = r.get<uint32_t>("layers"), i = 0; i < n; ++i) {
    LayerConfig layer;
    for (uint32_t m = r.get<uint32_t>("a layer"), j = 0; j < m; ++j) {
      std::string k = r.get_string("a layer");
      layer[k] = r.get_string("a layer");
    }
    file.layers.push_back(std::move(layer));
  }
  for (uint32_t n = r.get<uint32_t>("tensors"), i = 0; i < n; ++i) {
    std::string name = r.get_string("a tensor name");
    const uint8_t dtype = r.get<uint8_t>("a tensor");
    if (dtype > static_cast<uint8_t>(DType::kBool)) fail("model file '", path, "': tensor '", name, "' has a bad dtype");
    const uint32_t rank = r.get<uint32_t>("a tensor");
    r.need(size_t{rank} * sizeof(int64_t), "a tensor shape");  // before sizing `dims` by it
    std::vector<int64_t> dims;
    for (uint32_t d = 0; d < rank; ++d) dims.push_back(r.get<int64_t>("a tensor shape"));
    const std::string what = str_cat("model file '", path, "': tensor '", name, "'");
    const int64_t count = checked_num_elements(dims, what);
    uint64_t needed = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(count), dtype_size(static_cast<DType>(dtype)), &needed))
      fail(what, ": shape ", Shape(dims), " needs more bytes than a file can hold");
    const uint64_t nbytes = r.get<uint64_t>("a tensor");
    if (nbytes != needed) fail(what, " has ", nbytes, " bytes, its shape ", Shape(dims), " needs ", needed);
    const char* data = r.take(nbytes, "tensor data");  // checked against the file before allocating
    Tensor t(static_cast<DType>(dtype), Shape(dims));
    if (nbytes) std::memcpy(t.raw_data(), data, nbytes);
    file.tensors.emplace_back(std::move(name), std::move(t));
  }
  if (!r.at_end()) fail("model file '", path, "': unexpected bytes after the tensors");
  return file;
}

OptimizerSettings optimizer_settings(const ModelFile& file) {
  OptimizerSettings out;
  for (const auto& [k, v] : file.settings) {
    if (k.rfind("optimizer.", 0) != 0) continue;
    const std::string key = k.substr(10);
    if (key == "learning_rate" && !v.empty() && v[0] == '{') {
      optimizers::schedules::from_json(v);  // throws for a schedule Horn cannot run
      out.schedule_json = v;
      out.numbers[key] = 0;  // a number for the writers that need one; the schedule replaces it
      continue;
    }
    double number = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), number);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty())
      fail("the setting '", k, "' should be a number, got '", v, "'");
    out.numbers[key] = number;
  }
  return out;
}

}  // namespace horn::keras
