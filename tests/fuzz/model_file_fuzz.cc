// libFuzzer target: the .horn reader and load_model's rebuilding of a model from what it read
// (layers from their configs, weights checked against the file, variables, compile). A crafted
// file can carry a correct checksum, so when the first input byte is odd the target writes the
// right payload size and CRC into the header, letting the fuzzer reach the payload's parser.
// Run with a malloc limit (tools/fuzz.sh): a file must not make Horn allocate more than it holds.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "keras_api/model_file.h"
#include "keras_api/sequential.h"

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
    const horn::keras::ModelFile file = horn::keras::parse_model_file(bytes, "fuzz.horn");
    horn::keras::model_from_file(file, "fuzz.horn");
  } catch (const horn::Error&) {
  }
  return 0;
}
