// The public side of Horn's guard against damaged HDF5 files (hdf5_guard.h tells how it works):
// the time libhdf5 may take to read a .h5 model or a .keras model's weights, and the error a
// read that hangs or crashes becomes.
//
//   keras::set_hdf5_read_limits({.seconds = 2, .seconds_per_mb = 0.05});
//   try { auto m = keras::load_model("untrusted.h5"); }
//   catch (const keras::DamagedHdf5Error& e) { /* e.hung(): libhdf5 looped; else it crashed */ }
#pragma once
#include <string>

#include "core/errors.h"

namespace horn::keras {

// How long libhdf5 may take to read one file's image: `seconds`, plus `seconds_per_mb` for
// each MB (10^6 bytes) of the image. The defaults are generous (libhdf5 reads well over
// 100 MB/s here); lower them to fail sooner on damaged files, raise them on a slow machine.
// `check_in_child = false` reads in this process only, as before the guard: a damaged file
// can then hang the process.
struct Hdf5ReadLimits {
  double seconds = 10.0;
  double seconds_per_mb = 0.1;
  bool check_in_child = true;
};
// For every later read, by any thread; throws horn::Error for negative or non-finite values.
void set_hdf5_read_limits(const Hdf5ReadLimits& limits);
Hdf5ReadLimits hdf5_read_limits();

// libhdf5 did not finish reading a file: it hung or crashed in the checking process.
class DamagedHdf5Error : public Error {
 public:
  enum class Kind {
    kHung,     // still running at the time limit
    kCrashed,  // killed by a signal (a crash in libhdf5)
    kStopped,  // exited by itself: a sanitizer or libFuzzer stopped it (its report is on stderr)
  };
  DamagedHdf5Error(const std::string& what, Kind kind) : Error(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  bool hung() const { return kind_ == Kind::kHung; }
  // The same error, its message prefixed (by the reader that knows the file's name).
  DamagedHdf5Error in(const std::string& prefix) const { return DamagedHdf5Error(prefix + what(), kind_); }

 private:
  Kind kind_;
};

}  // namespace horn::keras
