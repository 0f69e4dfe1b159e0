// HDF5 through its C API, as much as Keras's .h5 layout needs: files kept in memory (read from
// and written to bytes, so reads and durable writes go through file_io.h), groups, string
// attributes (fixed- or variable-length, scalar or 1-D) and float32 datasets.
//
// Hostile files: every read checks types and sizes first. A dataset's bytes must be stored in
// the file (no compression filters, nothing left to fill values), so what a read allocates is
// bounded by the file's size. The HDF5 library itself parses the file's structure, where Horn's
// checks cannot reach: readers of untrusted images go through hdf5_guard.h, which bounds the
// time libhdf5 takes and survives its crashes. Every call into libhdf5 holds hdf5_mutex(): the
// guard forks while holding it, so no other thread of Horn is inside libhdf5 at the fork.
#pragma once
#include <hdf5.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace horn::keras::hdf5 {

std::mutex& hdf5_mutex();

// An HDF5 identifier, released when it goes out of scope.
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  ~Id();
  Id(Id&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Opens the file image `bytes` read-only; errors name `what`.
Id open_image(const std::vector<char>& bytes, const std::string& what);
// A new, empty file in memory; image() returns its bytes.
Id create_in_memory();
std::vector<char> image(hid_t file);

bool has_link(hid_t loc, const std::string& path);  // every component of a "/"-separated path
Id open_group(hid_t loc, const std::string& path);
Id create_group(hid_t loc, const std::string& path);  // creates missing parents
// How many links (groups, datasets) the group at `path` holds.
size_t count_links(hid_t loc, const std::string& path);

bool has_attribute(hid_t object, const std::string& name);
// A string attribute's values (a scalar gives one); an empty attribute of any type gives none.
std::vector<std::string> read_strings(hid_t object, const std::string& name);
enum class StringKind { kFixed, kVariable };
// A scalar when `scalar` (values.size() == 1), else a 1-D array.
void write_strings(hid_t object, const std::string& name, const std::vector<std::string>& values, StringKind kind,
                   bool scalar);

Tensor read_float32(hid_t loc, const std::string& path);
void write_float32(hid_t loc, const std::string& path, const Tensor& t);

}  // namespace horn::keras::hdf5
