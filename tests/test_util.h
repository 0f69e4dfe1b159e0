// Helpers for tests: build small tensors, evaluate outputs, compare with tolerances.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/session.h"
#include "ops/ops.h"

namespace horn::testing {

// A file path in the test's private temporary directory (Bazel's TEST_TMPDIR).
inline std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

inline Tensor F(const Shape& s, std::vector<float> v) { return Tensor(s, v); }

// max |x - r| / max |r|
inline double relative_error(const Tensor& x, const Tensor& r) {
  double err = 0, scale = 0;
  for (int64_t i = 0; i < r.size(); ++i) {
    err = std::max(err, std::abs(x.value_as_double(i) - r.value_as_double(i)));
    scale = std::max(scale, std::abs(r.value_as_double(i)));
  }
  return err / scale;
}
inline Tensor D(const Shape& s, std::vector<double> v) { return Tensor(s, v); }

// Runs the graph of `out` in a fresh session (variables initialised).
inline Tensor eval(Output out, const Session::Feeds& feeds = {}, int threads = 0) {
  Session s(out.graph(), {.num_threads = threads});
  s.initialize_variables();
  return s.run(feeds, out);
}

inline std::vector<double> values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.size(); ++i) v.push_back(t.value_as_double(i));
  return v;
}

inline void expect_near(const Tensor& t, const Shape& shape, const std::vector<double>& expected,
                        double tol = 1e-6) {
  ASSERT_EQ(t.shape(), shape) << t.shape() << " vs " << shape;
  ASSERT_EQ(t.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < t.size(); ++i) {
    const double got = t.value_as_double(i), want = expected[i];
    if (std::isinf(want)) EXPECT_EQ(got, want) << "element " << i;
    else EXPECT_NEAR(got, want, tol * std::max(1.0, std::abs(want))) << "element " << i << " of " << t;
  }
}

// Expects `fn` to throw horn::Error whose message contains every piece of `parts`.
template <typename Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an Error containing '" << parts[0] << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

}  // namespace horn::testing
