// Zip archives in memory through libzip's C API, as much as Keras 3's .keras files need: list
// and read the entries of an archive's bytes, and write an archive of uncompressed ("stored")
// entries, as Python's zipfile.ZipFile(path, "w") writes Keras's.
//
// Hostile archives: libzip checks the archive's structure (ZIP_CHECKCONS: the central
// directory against the local headers); an entry's CRC-32 is checked when it is read whole.
// Horn checks sizes: an entry's compressed bytes must fit in the archive, and it may announce at
// most 1032 times as many uncompressed bytes (deflate's largest ratio), so reading it allocates
// at most that multiple of the archive's size; it must then hold exactly the bytes it announced. Encrypted entries are refused.
#pragma once
#include <span>
#include <string>
#include <utility>
#include <vector>

struct zip;

namespace horn::keras::ziparchive {

// The first 4 bytes of a zip archive (a local file header).
inline constexpr char kZipMagic[4] = {'P', 'K', '\x03', '\x04'};

class Reader {
 public:
  // `bytes` must outlive the Reader; errors name `what`.
  Reader(std::span<const char> bytes, const std::string& what);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::vector<std::string>& names() const { return names_; }
  bool has(const std::string& name) const;
  // The entry's uncompressed bytes; throws naming the entry when it is missing or damaged.
  std::vector<char> read(const std::string& name) const;

 private:
  struct zip* archive_ = nullptr;
  std::string what_;
  size_t archive_size_ = 0;
  std::vector<std::string> names_;
};

// An archive holding `entries` (name, bytes) in order, stored uncompressed.
std::vector<char> write_stored(const std::vector<std::pair<std::string, std::span<const char>>>& entries);

}  // namespace horn::keras::ziparchive
