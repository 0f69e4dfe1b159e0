// The .horn model file: architecture, compile settings, weights and optimizer state.
//
// Layout (little-endian):
//   "HORNMODL"  8-byte magic
//   u32         format version (kModelFileVersion)
//   u64         payload size in bytes
//   u32         CRC-32 (zlib) of the payload
//   payload:    settings  u32 n, then n (key, value) strings
//               layers    u32 n, then per layer u32 m and m (key, value) strings
//               tensors   u32 n, then per tensor: name string, u8 dtype, u32 rank,
//                         rank x i64 dims, u64 byte count, raw bytes
//   A string is a u32 length and its bytes.
// Files are written through keras_api/file_io.h: atomically and durably (see there).
// Readers treat every count, rank, dimension and size as hostile: each is checked against
// the bytes that remain before anything is allocated.
#pragma once
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "keras_api/file_io.h"
#include "keras_api/layers.h"

namespace horn::keras {

inline constexpr uint32_t kModelFileVersion = 1;

struct ModelFile {
  std::map<std::string, std::string> settings;
  std::vector<LayerConfig> layers;
  std::vector<std::pair<std::string, Tensor>> tensors;
};

// The optimizer settings of a compiled model's file ("optimizer.<key>"): numbers, except a
// learning rate that is a schedule, which the file holds as Keras's JSON object
// ({"class_name": "ExponentialDecay", "config": {...}}). Throws for a setting that is not a
// whole number or a schedule Horn has.
struct OptimizerSettings {
  std::map<std::string, double> numbers;
  std::string schedule_json;  // empty when the learning rate is a number
};
OptimizerSettings optimizer_settings(const ModelFile& file);

// `calls` (here and in read_model_file) lets tests inject I/O faults.
void write_model_file(const std::string& path, const ModelFile& file,
                      const FileSystemCalls& calls = posix_calls());
// Throws an Error naming the file and what is wrong: missing, a directory, unreadable, not a
// Horn model, a newer version, truncated, corrupt (checksum mismatch) or inconsistent.
ModelFile read_model_file(const std::string& path, const FileSystemCalls& calls = posix_calls());
// The same over the file's bytes; `name` (the path) goes into every error.
ModelFile parse_model_file(std::span<const char> bytes, const std::string& name);
// The file's bytes, as write_model_file writes them.
std::vector<char> serialize_model_file(const ModelFile& file);

}  // namespace horn::keras
