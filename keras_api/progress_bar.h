// Keras-style progress output for fit/evaluate/predict:
//   60000/60000 [==============================] - 2s 35us/step - loss: 0.0712 - accuracy: 0.9786
// verbose 1 redraws the bar in place on a terminal and prints one final line per epoch when
// the output is not a terminal (logs, CI); verbose 2 prints one short line per epoch.
#pragma once
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace horn::keras {

class ProgressBar {
 public:
  ProgressBar(int64_t target, int verbose, std::ostream& out, bool is_terminal);
  // `values`: (name, running mean) pairs shown after the timing.
  void update(int64_t current, const std::vector<std::pair<std::string, double>>& values);
  void finish(const std::vector<std::pair<std::string, double>>& values);

 private:
  std::string line(int64_t current, const std::vector<std::pair<std::string, double>>& values, bool final) const;
  int64_t target_;
  int verbose_;
  std::ostream& out_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

bool stdout_is_terminal();

}  // namespace horn::keras
