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

}  // namespace

std::string Sequential::summary(std::ostream& out) {
  build();
  std::ostringstream s;
  const std::string thin(65, '_'), thick(65, '=');
  s << "Model: \"" << options_.name << "\"\n" << thin << "\n";
  s << std::left << std::setw(29) << "Layer (type)" << std::setw(26) << "Output Shape" << "Param #\n"
    << thick << "\n";
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& l = layers_[i];
    s << std::setw(29) << (l->name() + " (" + l->type() + ")")
      << std::setw(26) << keras_shape(l->output_shape()) << l->count_params() << "\n"
      << (i + 1 < layers_.size() ? thin : thick) << "\n";
  }
  const int64_t total = count_params();
  s << "Total params: " << with_commas(total) << "\nTrainable params: " << with_commas(total)
    << "\nNon-trainable params: 0\n" << thin << "\n";
  out << s.str();
  return s.str();
}

}  // namespace horn::keras
