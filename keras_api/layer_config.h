// Helpers that layers share to write and read their LayerConfig (the text form of their
// constructor arguments in a .horn file) and to check their input_shape.
#pragma once
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/shape.h"
#include "keras_api/layers.h"

namespace horn::keras::layer_config {

// {28, 28, 1} -> "28,28,1", and back.
inline std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s;
  for (int64_t d : dims) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s;
}

inline std::vector<int64_t> parse_dims(const std::string& text) {
  std::vector<int64_t> dims;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ','))
    if (!part.empty()) dims.push_back(std::stoll(part));
  return dims;
}

// The value of `key`; throws naming the layer type when it is missing.
inline const std::string& value(const LayerConfig& c, const std::string& key) {
  auto it = c.find(key);
  if (it == c.end())
    fail("layer config of type '", c.count("type") ? c.at("type") : "?", "' lacks '", key, "'");
  return it->second;
}

// A weight's regularizer ("kernel_regularizer"): none when the key is absent.
inline regularizers::Regularizer regularizer(const LayerConfig& c, const std::string& key) {
  auto it = c.find(key);
  return it == c.end() ? regularizers::Regularizer() : regularizers::Regularizer::from_text(it->second);
}

inline std::vector<int64_t> input_shape(const LayerConfig& c) {
  return c.count("input_shape") ? parse_dims(c.at("input_shape")) : std::vector<int64_t>{};
}

// A first layer's declared input shape (empty dims: none declared).
inline std::optional<Shape> optional_shape(const std::vector<int64_t>& dims) {
  if (dims.empty()) return std::nullopt;
  for (int64_t d : dims)
    if (d <= 0) fail("input_shape must have positive dimensions, got [", dims_text(dims), "]");
  return Shape(dims);
}

}  // namespace horn::keras::layer_config
