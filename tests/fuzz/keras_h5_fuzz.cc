// libFuzzer target: the Keras 2 HDF5 reader (.h5): the file image through libhdf5, the
// model_config and training_config attributes, layer_names/weight_names in their plain and
// chunked forms, fixed- and variable-length strings, and every weight dataset's shape and type.
// Input: the file's bytes.
//
// The reader runs libhdf5 in a checking process first (keras_api/hdf5_guard.h). A file on which
// libhdf5 loops or crashes is an expected error here (DamagedHdf5Error, the guard's job). So is
// a checking process stopped by a sanitizer: its report can be about libhdf5 itself (ASan's
// memcpy interceptor flags libhdf5's overlapping copies) as well as Horn's code, so it is left
// in the log, not counted as a finding. Horn's code is still checked in this process, whose own
// parse runs whenever the checking process finished.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/errors.h"
#include "keras_api/h5_format.h"
#include "keras_api/hdf5_limits.h"

// libhdf5's 2^64-byte requests and its leaks on error paths: see keras3_model_fuzz.cc. (These
// must be defined in the executable, which is why each target has its own.)
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Inputs are at most 64 KB: a second is ample, and a looping input costs no more than that.
  static const bool limited = (horn::keras::set_hdf5_read_limits({.seconds = 1, .seconds_per_mb = 1}), true);
  (void)limited;
  try {
    const std::vector<char> bytes(data, data + size);
    horn::keras::parse_keras_h5(bytes, "fuzz.h5");
  } catch (const horn::Error&) {
  }
  return 0;
}
