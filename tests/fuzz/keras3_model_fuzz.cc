// libFuzzer target: the Keras 3 .keras reader (the zip, config.json with its compile_config,
// model.weights.h5 by Keras 3's paths). Input: when the first byte is even, the rest is the
// archive itself (libzip's parsing, entry sizes, CRCs); when it is odd, a little-endian u16
// length n, n bytes of config.json, then the bytes of model.weights.h5, zipped here with a
// Keras 3 metadata.json, so the fuzzer spends its time on the configs and the weights rather
// than on rebuilding zip headers it cannot checksum. model.weights.h5 goes through the guard
// against damaged HDF5 files, with the same policy as keras_h5_fuzz.cc: whatever ends the
// checking process is an expected error.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/errors.h"
#include "keras_api/hdf5_limits.h"
#include "keras_api/keras3_format.h"
#include "keras_api/zip_archive.h"

// libhdf5 is Debian's uninstrumented build and checks what malloc returns: on some damaged
// images it asks for 2^64 bytes, gets NULL (as from glibc in any ordinary run) and reports an
// error, which Horn passes on. ASan's default would abort on that request instead, so this target
// (in the fuzz build and in its corpus replay under --config=asan) lets the allocator return
// NULL; allocations that succeed are still capped by fuzz.sh's -malloc_limit_mb.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
// libhdf5 also leaks some of its own allocations when it gives up on a damaged image (LeakSanitizer
// sees only libhdf5's frames: it is uninstrumented). Those are suppressed here; leaks from
// allocations of Horn's own code still fail the target.
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = (horn::keras::set_hdf5_read_limits({.seconds = 1, .seconds_per_mb = 1}), true);
  (void)limited;
  if (size < 1) return 0;
  const char* rest = reinterpret_cast<const char*>(data + 1);
  try {
    std::vector<char> archive;
    if (data[0] % 2 == 0) {
      archive.assign(rest, rest + size - 1);
    } else {
      if (size < 3) return 0;
      const size_t n = std::min<size_t>(size - 3, data[1] | (size_t{data[2]} << 8));
      const char* config = rest + 2;
      static const std::string metadata = R"({"keras_version": "3.6.0", "date_saved": "2026-11-29@12:00:00"})";
      archive = horn::keras::ziparchive::write_stored(
          {{"metadata.json", metadata},
           {"config.json", std::span<const char>(config, n)},
           {"model.weights.h5", std::span<const char>(config + n, reinterpret_cast<const char*>(data + size))}});
    }
    horn::keras::parse_keras3(archive, "fuzz.keras");
  } catch (const horn::Error&) {
  }
  return 0;
}
