// libFuzzer target: ModelCheckpoint's file path pattern, parsed and then formatted with a
// few logs, including non-finite values.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.h"
#include "keras_api/checkpoint_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string pattern(reinterpret_cast<const char*>(data), size);
  try {
    horn::keras::CheckpointPattern p(pattern);
    const std::map<std::string, double> logs{
        {"loss", 0.123456789}, {"val_loss", -1e300}, {"acc", NAN}, {"val_acc", INFINITY}, {"lr", 1e-300}};
    p.format(12345, logs);
  } catch (const horn::Error&) {
  }
  return 0;
}
