// libFuzzer target: the TensorFlow.js Layers reader (model.json, the Keras model config in it,
// the weights manifest and its shards). Input: a little-endian u16 length n, n bytes of
// model.json, then the bytes every shard the manifest names reads as.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "keras_api/tfjs_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t n = std::min<size_t>(size - 2, data[0] | (size_t{data[1]} << 8));
  const char* json = reinterpret_cast<const char*>(data + 2);
  const std::vector<char> shard(json + n, reinterpret_cast<const char*>(data + size));
  try {
    horn::keras::parse_tfjs_model(std::span<const char>(json, n), [&](const std::string&) { return shard; },
                                  "fuzz/model.json");
  } catch (const horn::Error&) {
  }
  return 0;
}
