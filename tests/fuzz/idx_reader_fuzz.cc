// libFuzzer target: the IDX reader, raw and gzip. The first byte picks the expected rank
// (images or labels); the rest is the file. Any input must give a tensor or a horn::Error.
#include <cstddef>
#include <cstdint>

#include "keras_api/datasets/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int rank = data[0] % 2 ? 3 : 1;
  try {
    horn::keras::datasets::parse_idx({reinterpret_cast<const char*>(data) + 1, size - 1}, "fuzz.idx", rank);
  } catch (const horn::Error&) {
  }
  return 0;
}
