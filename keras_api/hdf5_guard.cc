#include "keras_api/hdf5_guard.h"

#include <algorithm>
#include <cmath>
#include <iomanip>

#include "keras_api/child_process.h"

namespace horn::keras {
namespace {

std::mutex& limits_mutex() {
  static std::mutex m;
  return m;
}

Hdf5ReadLimits& current_limits() {
  static Hdf5ReadLimits limits;
  return limits;
}

std::chrono::milliseconds limit_for(const Hdf5ReadLimits& limits, size_t image_bytes) {
  const double seconds = limits.seconds + limits.seconds_per_mb * (static_cast<double>(image_bytes) / 1e6);
  // Past a day the limit no longer guards anything, and the cast must not overflow.
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(std::min(seconds, 86400.0) * 1000.0)));
}

}  // namespace

void set_hdf5_read_limits(const Hdf5ReadLimits& limits) {
  for (const auto& [name, value] : {std::pair{"seconds", limits.seconds}, {"seconds_per_mb", limits.seconds_per_mb}})
    if (!std::isfinite(value) || value < 0)
      fail("set_hdf5_read_limits: ", name, " should be a finite number of seconds >= 0, got ", value);
  std::lock_guard<std::mutex> lock(limits_mutex());
  current_limits() = limits;
}

Hdf5ReadLimits hdf5_read_limits() {
  std::lock_guard<std::mutex> lock(limits_mutex());
  return current_limits();
}

namespace hdf5 {

void check_in_child(size_t image_bytes, const std::function<void()>& read) {
  const Hdf5ReadLimits limits = hdf5_read_limits();
  if (!limits.check_in_child) return;
  const std::chrono::milliseconds limit = limit_for(limits, image_bytes);
  ChildOutcome outcome;
  try {
    outcome = run_in_child(read, limit);
  } catch (const Error& e) {
    fail(e.what(), "; keras::set_hdf5_read_limits({.check_in_child = false}) reads without the check");
  }
  switch (outcome.end) {
    case ChildOutcome::End::kFinished: return;
    case ChildOutcome::End::kTimedOut:
      throw DamagedHdf5Error(
          str_cat("libhdf5 did not finish reading it within ", std::fixed, std::setprecision(1), limit.count() / 1000.0,
                  " s (the limit for ", image_bytes, " bytes) and was stopped: the file is damaged, a state in which "
                  "Debian's libhdf5 can loop forever (if the file is sound and the machine very slow or overloaded, "
                  "raise the limit: keras::set_hdf5_read_limits)"),
          DamagedHdf5Error::Kind::kHung);
    case ChildOutcome::End::kBlocked:
      // Not the file's fault, so not a DamagedHdf5Error.
      fail("cannot check it in a separate process: the process ", describe(outcome),
           " (threads allocating memory while this one forks, under a runtime whose allocator is not ready for fork, "
           "such as AddressSanitizer's)");
    case ChildOutcome::End::kSignalled:
      throw DamagedHdf5Error(str_cat("libhdf5 crashed reading it (", describe(outcome),
                                     ") in a checking process, this process is unharmed: the file is damaged"),
                             DamagedHdf5Error::Kind::kCrashed);
    case ChildOutcome::End::kExitedEarly:
      throw DamagedHdf5Error(str_cat("the checking process reading it stopped with ", describe(outcome),
                                     " (a sanitizer's or libFuzzer's report is on stderr)"),
                             DamagedHdf5Error::Kind::kStopped);
  }
}

}  // namespace hdf5
}  // namespace horn::keras
