#include "keras_api/hdf5_file.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <sstream>

#include "core/errors.h"

namespace horn::keras::hdf5 {
namespace {

// HDF5 prints its error stack to stderr by default; Horn reports errors itself.
void silence() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

template <typename... Args>
hid_t check(hid_t id, const Args&... what) {
  if (id < 0) fail(what...);
  return id;
}

template <typename... Args>
void check_status(herr_t status, const Args&... what) {
  if (status < 0) fail(what...);
}

// Names of in-memory files: HDF5 refuses a second open file of the same name.
std::string unique_name(const char* kind) {
  static std::atomic<uint64_t> counter{0};
  return str_cat("horn-", kind, "-", ::getpid(), "-", counter++, ".h5");
}

Id memory_access(const void* image, size_t size) {
  Id fapl(check(H5Pcreate(H5P_FILE_ACCESS), "HDF5: cannot create a file access list"));
  check_status(H5Pset_fapl_core(fapl.get(), 1 << 16, 0), "HDF5: cannot select the in-memory driver");
  if (image) check_status(H5Pset_file_image(fapl.get(), const_cast<void*>(image), size), "HDF5: cannot set the file image");
  return fapl;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string p; std::getline(in, p, '/');)
    if (!p.empty()) parts.push_back(p);
  return parts;
}

}  // namespace

std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

Id::~Id() {
  if (id_ >= 0) H5Idec_ref(id_);
}

Id& Id::operator=(Id&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0) H5Idec_ref(id_);
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

Id open_image(const std::vector<char>& bytes, const std::string& what) {
  silence();
  if (bytes.empty()) fail(what, " is empty");
  Id fapl = memory_access(bytes.data(), bytes.size());
  const hid_t file = H5Fopen(unique_name("read").c_str(), H5F_ACC_RDONLY, fapl.get());
  if (file < 0) fail(what, " is not an HDF5 file HDF5 can open");
  return Id(file);
}

Id create_in_memory() {
  silence();
  Id fapl = memory_access(nullptr, 0);
  return Id(check(H5Fcreate(unique_name("write").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                  "HDF5: cannot create a file in memory"));
}

std::vector<char> image(hid_t file) {
  check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), "HDF5: cannot flush the file");
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  if (size < 0) fail("HDF5: cannot get the file's image");
  std::vector<char> bytes(static_cast<size_t>(size));
  if (H5Fget_file_image(file, bytes.data(), bytes.size()) != size) fail("HDF5: cannot copy the file's image");
  return bytes;
}

bool has_link(hid_t loc, const std::string& path) {
  std::string prefix;
  for (const std::string& part : split_path(path)) {
    prefix += (prefix.empty() ? "" : "/") + part;
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return !prefix.empty();
}

Id open_group(hid_t loc, const std::string& path) {
  if (!has_link(loc, path)) fail("the group '", path, "' is missing");
  return Id(check(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), "'", path, "' is not a group"));
}

Id create_group(hid_t loc, const std::string& path) {
  Id lcpl(check(H5Pcreate(H5P_LINK_CREATE), "HDF5: cannot create a link list"));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return Id(check(H5Gcreate2(loc, path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                  "HDF5: cannot create the group '", path, "'"));
}

size_t count_links(hid_t loc, const std::string& path) {
  Id group = open_group(loc, path);
  H5G_info_t info;
  check_status(H5Gget_info(group.get(), &info), "cannot read the group '", path, "'");
  return static_cast<size_t>(info.nlinks);
}

bool has_attribute(hid_t object, const std::string& name) { return H5Aexists(object, name.c_str()) > 0; }

std::vector<std::string> read_strings(hid_t object, const std::string& name) {
  Id attr(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "the attribute '", name, "' is missing"));
  Id type(check(H5Aget_type(attr.get()), "the attribute '", name, "' has no type"));
  Id space(check(H5Aget_space(attr.get()), "the attribute '", name, "' has no shape"));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (rank < 0 || rank > 1 || n < 0) fail("the attribute '", name, "' should be a string or a list of strings");
  if (n == 0) return {};  // Keras writes a layer without weights as an empty (float) array
  if (H5Tget_class(type.get()) != H5T_STRING) fail("the attribute '", name, "' does not hold strings");
  const size_t count = static_cast<size_t>(n);
  const hsize_t stored = H5Aget_storage_size(attr.get());
  std::vector<std::string> values;
  if (H5Tis_variable_str(type.get()) > 0) {
    // Each value is a reference of at least 16 bytes into the file's heap.
    if (count > stored / 8) fail("the attribute '", name, "' announces ", count, " strings in ", stored, " bytes");
    Id mem(check(H5Tcopy(H5T_C_S1), "HDF5: cannot copy a type"));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    std::vector<char*> ptrs(count, nullptr);
    check_status(H5Aread(attr.get(), mem.get(), ptrs.data()), "cannot read the attribute '", name, "'");
    for (char* p : ptrs) values.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    const size_t size = H5Tget_size(type.get());
    if (size == 0 || count > stored / size || count * size != stored)
      fail("the attribute '", name, "' announces ", count, " strings of ", size, " bytes in ", stored, " bytes");
    std::vector<char> buffer(count * size);
    check_status(H5Aread(attr.get(), type.get(), buffer.data()), "cannot read the attribute '", name, "'");
    for (size_t i = 0; i < count; ++i) {
      const char* s = buffer.data() + i * size;
      values.emplace_back(s, strnlen(s, size));
    }
  }
  return values;
}

void write_strings(hid_t object, const std::string& name, const std::vector<std::string>& values, StringKind kind,
                   bool scalar) {
  Id type(check(H5Tcopy(H5T_C_S1), "HDF5: cannot copy a type"));
  const hsize_t n = values.size();
  Id space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
  if (kind == StringKind::kVariable) {
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    Id attr(check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  "HDF5: cannot create the attribute '", name, "'"));
    check_status(H5Awrite(attr.get(), type.get(), ptrs.data()), "HDF5: cannot write the attribute '", name, "'");
    return;
  }
  // Fixed-length, NUL-padded: numpy's "S<n>" arrays, as Keras 2 writes layer and weight names.
  size_t size = 1;
  for (const auto& v : values) size = std::max(size, v.size());
  H5Tset_size(type.get(), size);
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  std::vector<char> buffer(values.size() * size, '\0');
  for (size_t i = 0; i < values.size(); ++i) std::memcpy(buffer.data() + i * size, values[i].data(), values[i].size());
  Id attr(check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                "HDF5: cannot create the attribute '", name, "' (", buffer.size(), " bytes)"));
  if (values.empty()) return;  // an empty list, as Keras writes a layer without weights
  check_status(H5Awrite(attr.get(), type.get(), buffer.data()), "HDF5: cannot write the attribute '", name, "'");
}

Tensor read_float32(hid_t loc, const std::string& path) {
  if (!has_link(loc, path)) fail("the dataset '", path, "' is missing");
  Id d(check(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), "'", path, "' is not a dataset"));
  Id type(check(H5Dget_type(d.get()), "the dataset '", path, "' has no type"));
  if (H5Tget_class(type.get()) != H5T_FLOAT || H5Tget_size(type.get()) != 4)
    fail("the dataset '", path, "' is not float32; Horn reads float32 weights");
  Id space(check(H5Dget_space(d.get()), "the dataset '", path, "' has no shape"));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > H5S_MAX_RANK) fail("the dataset '", path, "' has a bad rank");
  std::vector<hsize_t> hdims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), hdims.data(), nullptr);
  std::vector<int64_t> dims;
  for (hsize_t h : hdims) {
    if (h > static_cast<hsize_t>(INT64_MAX)) fail("the dataset '", path, "': a dimension overflows int64");
    dims.push_back(static_cast<int64_t>(h));
  }
  const std::string what = "the dataset '" + path + "'";
  const int64_t count = checked_num_elements(dims, what);
  Id dcpl(check(H5Dget_create_plist(d.get()), what, " has no creation list"));
  if (H5Pget_nfilters(dcpl.get()) != 0) fail(what, " is compressed or filtered; Horn reads plain datasets");
  const hsize_t stored = H5Dget_storage_size(d.get());
  if (static_cast<uint64_t>(count) > stored / 4)
    fail(what, " has shape ", Shape(dims), " but only ", stored, " bytes are stored in the file");
  Tensor t(DType::kFloat32, Shape(dims));  // bounded by the bytes the file stores
  if (count > 0)
    check_status(H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.raw_data()),
                 "cannot read ", what);
  return t;
}

void write_float32(hid_t loc, const std::string& path, const Tensor& t) {
  std::vector<hsize_t> dims(t.shape().dims().begin(), t.shape().dims().end());
  Id space(check(t.rank() == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(t.rank(), dims.data(), nullptr),
                 "HDF5: cannot create a dataspace"));
  Id lcpl(check(H5Pcreate(H5P_LINK_CREATE), "HDF5: cannot create a link list"));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Id d(check(H5Dcreate2(loc, path.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
             "HDF5: cannot create the dataset '", path, "'"));
  check_status(H5Dwrite(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.raw_data()),
               "HDF5: cannot write the dataset '", path, "'");
}

}  // namespace horn::keras::hdf5
