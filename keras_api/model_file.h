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
// Files are written to "<path>.tmp" and renamed: a crash never leaves a half-written file.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "keras_api/layers.h"

namespace horn::keras {

inline constexpr uint32_t kModelFileVersion = 1;

struct ModelFile {
  std::map<std::string, std::string> settings;
  std::vector<LayerConfig> layers;
  std::vector<std::pair<std::string, Tensor>> tensors;
};

void write_model_file(const std::string& path, const ModelFile& file);
// Throws an Error naming the file and what is wrong: missing, not a Horn model, a newer
// version, truncated, or corrupt (checksum mismatch).
ModelFile read_model_file(const std::string& path);

}  // namespace horn::keras
