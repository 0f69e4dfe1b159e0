// Sequential::summary: Keras's table of layers, output shapes and parameter counts.
#include <iomanip>
#include <sstream>

#include "keras_api/sequential.h"

namespace horn::keras {
namespace {

std::string keras_shape(const Shape& s) {  // "(None, 500)"
  std::string out = "(None";
  for (int64_t d : s.dims()) out += ", " + std::to_string(d);
  return out + ")";
}

std::string with_commas(int64_t n) {  // 648010 -> "648,010"
  const std::string digits = std::to_string(n);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

// Keras cuts a field one short of its column's width, so that a space always follows
// ("max_pooling2d_1 (MaxPooling2 (None, 12, 12, 64)"), and pads it.
std::string column(const std::string& field, size_t width) {
  std::string s = field.substr(0, width - 1);
  return s + std::string(width - s.size(), ' ');
}

}  // namespace

int64_t Sequential::count_trainable_params() {
  build();
  int64_t n = 0;
  for (const auto& l : layers_) n += l->count_trainable_params();
  return n;
}

std::string Sequential::summary(std::ostream& out) {
  build();
  std::ostringstream s;
  const std::string thin(65, '_'), thick(65, '=');
  s << "Model: \"" << options_.name << "\"\n" << thin << "\n";
  s << std::left << std::setw(29) << "Layer (type)" << std::setw(26) << "Output Shape" << "Param #\n"
    << thick << "\n";
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& l = layers_[i];
    s << column(l->name() + " (" + l->type() + ")", 29) << column(keras_shape(l->output_shape()), 26)
      << l->count_params() << "\n" << (i + 1 < layers_.size() ? thin : thick) << "\n";
  }
  const int64_t total = count_params(), trainable = count_trainable_params();
  s << "Total params: " << with_commas(total) << "\nTrainable params: " << with_commas(trainable)
    << "\nNon-trainable params: " << with_commas(total - trainable) << "\n" << thin << "\n";
  out << s.str();
  return s.str();
}

}  // namespace horn::keras
