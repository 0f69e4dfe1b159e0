#include "keras_api/progress_bar.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace horn::keras {

bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

namespace {
// Keras 2.3's Progbar: the time per unit counted (a sample, in fit and evaluate) in the
// largest unit that keeps it at least 1, always labelled "/step".
std::string per_unit(double seconds) {
  std::ostringstream s;
  if (seconds >= 1) s << std::llround(seconds) << "s/step";
  else if (seconds >= 1e-3) s << std::llround(seconds * 1e3) << "ms/step";
  else s << std::llround(seconds * 1e6) << "us/step";
  return s.str();
}
}  // namespace

ProgressBar::ProgressBar(int64_t target, int verbose, std::ostream& out, bool is_terminal)
    : target_(target), verbose_(verbose), out_(out), terminal_(is_terminal),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

std::string ProgressBar::line(int64_t current, const std::vector<std::pair<std::string, double>>& values,
                              bool final) const {
  std::ostringstream s;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (verbose_ == 1) {
    const int width = 30;
    const std::string count = std::to_string(target_);
    s << std::setw(static_cast<int>(count.size())) << current << "/" << count << " [";
    const int done = target_ ? static_cast<int>(width * current / target_) : width;
    for (int i = 0; i < width; ++i) s << (i < done - 1 || (i == done - 1 && current >= target_) ? '=' : i == done - 1 ? '>' : '.');
    s << "]";
  }
  if (final) {
    s << " - " << static_cast<int64_t>(std::round(seconds)) << "s";
    if (verbose_ == 1 && current > 0) s << " " << per_unit(seconds / static_cast<double>(current));
  } else if (current > 0 && current < target_) {
    const double eta = seconds * (target_ - current) / current;
    s << " - ETA: " << static_cast<int64_t>(std::round(eta)) << "s";
  }
  for (const auto& [name, v] : values) s << " - " << name << ": " << std::fixed << std::setprecision(4) << v;
  return s.str();
}

void ProgressBar::update(int64_t current, const std::vector<std::pair<std::string, double>>& values) {
  if (verbose_ != 1 || !terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(50) && current < target_) return;
  last_draw_ = now;
  out_ << "\r" << line(current, values, false) << std::flush;
}

void ProgressBar::finish(const std::vector<std::pair<std::string, double>>& values) {
  if (verbose_ == 0) return;
  if (verbose_ == 1 && terminal_) out_ << "\r";
  out_ << line(target_, values, true) << std::endl;
}

}  // namespace horn::keras
