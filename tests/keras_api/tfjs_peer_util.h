// Running the TensorFlow.js reference (tools/tfjs_peer/tfjs_peer.js) from a test, and the
// io.json files it exchanges with Horn: {"x": {"shape", "data"}, "y": {"shape", "data"}}.
#pragma once
#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace horn::testing {

inline std::string temp_dir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

// A file of this repository that the test lists in `data`.
inline std::string runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir ? srcdir : ".") + "/" + (workspace ? workspace : "horn") + "/" + path;
}

inline bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

inline std::string find_node() {
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty() && is_executable(dir + "/node")) return dir + "/node";
  }
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"})
    if (is_executable(p)) return p;
  return "";
}

// The directory of the real tfjs_peer.js (the runfile is a link into the source tree), where
// tools/setup.sh installs node_modules. Empty after a failed assertion.
inline std::string tfjs_peer_dir() {
  char real[PATH_MAX];
  const std::string script = runfile("tools/tfjs_peer/tfjs_peer.js");
  if (!::realpath(script.c_str(), real)) {
    ADD_FAILURE() << "cannot find " << script << ": list //tools/tfjs_peer in the test's data";
    return "";
  }
  std::string dir(real);
  dir = dir.substr(0, dir.rfind('/'));
  if (::access((dir + "/node_modules/@tensorflow/tfjs/package.json").c_str(), R_OK) != 0) {
    ADD_FAILURE() << "TensorFlow.js is not installed in " << dir
                  << "/node_modules: run tools/setup.sh (it installs the pinned @tensorflow/tfjs "
                     "from tools/tfjs_peer/package-lock.json)";
    return "";
  }
  return dir;
}

// Runs `node tfjs_peer.js args`; returns false (after a test failure showing its output) if
// it fails.
inline bool run_tfjs_peer(const std::string& args) {
  const std::string node = find_node();
  if (node.empty()) {
    ADD_FAILURE() << "Node.js (node) is not on PATH, /usr/bin or /usr/local/bin: run tools/setup.sh";
    return false;
  }
  const std::string dir = tfjs_peer_dir();
  if (dir.empty()) return false;
  const std::string log = temp_dir() + "/tfjs_peer.log";
  const std::string command = "cd '" + dir + "' && '" + node + "' tfjs_peer.js " + args + " >'" + log + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "TensorFlow.js failed: " << command << "\n" << text.str();
    return false;
  }
  return true;
}

inline Tensor tensor_from_json(const nlohmann::json& j) {
  std::vector<int64_t> dims = j.at("shape").get<std::vector<int64_t>>();
  std::vector<float> data;
  for (const auto& v : j.at("data")) data.push_back(v.get<float>());
  return Tensor(Shape(dims), data);
}

inline nlohmann::json tensor_json(const Tensor& t) {
  std::vector<double> data;
  for (float v : t.flat<float>()) data.push_back(v);
  return {{"shape", t.shape().dims()}, {"data", data}};
}

// {x, y} of an io.json.
inline std::pair<Tensor, Tensor> read_io_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  const nlohmann::json j = nlohmann::json::parse(in);
  return {tensor_from_json(j.at("x")), tensor_from_json(j.at("y"))};
}

inline void write_io_json(const std::string& path, const Tensor& x, const Tensor& y) {
  std::ofstream(path) << nlohmann::json{{"x", tensor_json(x)}, {"y", tensor_json(y)}}.dump();
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  double m = 0;
  for (int64_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.value_as_double(i) - b.value_as_double(i)));
  return m;
}

}  // namespace horn::testing
