// libFuzzer target: the .horn reader (model and weights files share it). A crafted file can
// carry a correct checksum, so when the first input byte is odd the target writes the right
// payload size and CRC into the header, letting the fuzzer reach the payload's parser.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "keras_api/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<char> bytes(data + 1, data + size);
  constexpr size_t kHeader = 24;  // magic, version, payload size, CRC
  if (data[0] % 2 && bytes.size() >= kHeader) {
    const uint64_t payload = bytes.size() - kHeader;
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(bytes.data() + kHeader), static_cast<uInt>(payload)));
    std::memcpy(bytes.data() + 12, &payload, 8);
    std::memcpy(bytes.data() + 20, &crc, 4);
  }
  try {
    horn::keras::parse_model_file(bytes, "fuzz.horn");
  } catch (const horn::Error&) {
  }
  return 0;
}
