// core/ (the graph, the compiler, the Session) must ask the op registry what an op is (its
// traits and role), never which name it has: a new op then gets fusion, in-place reuse and
// correct scheduling by declaring traits in its own file. This test reads core/'s sources
// and fails on any string literal that is the name of a registered op.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/op_registry.h"

namespace horn {
namespace {

// The code of a line, without a trailing // comment (a "//" inside a string is rare enough
// in core/ to ignore).
std::string code_of(const std::string& line) {
  const size_t comment = line.find("//");
  return comment == std::string::npos ? line : line.substr(0, comment);
}

TEST(Architecture, CoreNamesNoOp) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator("core"))
    if (entry.path().extension() == ".cc" || entry.path().extension() == ".h") files.push_back(entry.path());
  ASSERT_GT(files.size(), 20u) << "core/'s sources are not in the test's runfiles";
  const std::vector<const OpDef*> ops = OpRegistry::global().all();
  ASSERT_GT(ops.size(), 40u);
  int found = 0;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      const std::string code = code_of(line);
      for (const OpDef* op : ops)
        if (code.find("\"" + op->name + "\"") != std::string::npos) {
          ADD_FAILURE() << file.string() << ":" << number << " names op \"" << op->name << "\": ask the op's "
                        << "traits or role (core/op_registry.h) instead\n  " << line;
          ++found;
        }
    }
  }
  EXPECT_EQ(found, 0);
}

}  // namespace
}  // namespace horn
