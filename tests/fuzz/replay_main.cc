// The main() of a fuzz target in ordinary builds (g++, plain or --config=asan): feeds each file
// named on the command line to LLVMFuzzerTestOneInput once, as libFuzzer does with file
// arguments. tests/fuzz/BUILD runs every target over its committed corpus this way, so the
// corpus (and every crash added to it) is a regression test without clang.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " INPUT_FILE...\n";
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::cerr << "cannot open fuzz input '" << argv[i] << "'\n";
      return 1;
    }
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::cout << "replaying " << argv[i] << " (" << bytes.size() << " bytes)" << std::endl;
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  return 0;
}
