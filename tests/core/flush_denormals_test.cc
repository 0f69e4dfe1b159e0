// Flush-to-zero / denormals-are-zero: on by default in every thread that runs a Session's
// kernels, off on request, and the caller's MXCSR is left as it was.
#include "core/flush_denormals.h"

#include <atomic>
#include <bit>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <oneapi/tbb/task_group.h>

#include "tests/test_util.h"

namespace horn {
namespace {

constexpr uint32_t kDenormalBits = kMxcsrFlushToZero | kMxcsrDenormalsAreZero;

// 1e-30 * 1e-10 = 1e-40 is subnormal in float32 (the least normal is 1.18e-38): flushed to
// 0 with FTZ. 1e-40 * 1e10 reads a subnormal operand: 0 with DAZ, 1e-30 without.
struct SubnormalProducts {
  Graph g;
  Output a = ops::Placeholder(g, DType::kFloat32, {-1}, "a");
  Output b = ops::Placeholder(g, DType::kFloat32, {-1}, "b");
  Output product = a * b;

  // Every element of the result, with a and b filled with the given values. Large enough
  // that the multiplication is split into blocks for the workers (core/parallel.h).
  std::vector<float> run(Session& s, float a_value, float b_value, int64_t n = int64_t{1} << 21) {
    Tensor ta(DType::kFloat32, {n}), tb(DType::kFloat32, {n});
    std::fill(ta.data<float>(), ta.data<float>() + n, a_value);
    std::fill(tb.data<float>(), tb.data<float>() + n, b_value);
    Tensor out = s.run({{a, ta}, {b, tb}}, product);
    return std::vector<float>(out.data<float>(), out.data<float>() + n);
  }
};

// Counted by bit pattern: with DAZ on in the test's thread, a subnormal would compare equal
// to 0.
int64_t count_zeros(const std::vector<float>& v) {
  return std::count_if(v.begin(), v.end(), [](float x) { return std::bit_cast<uint32_t>(x) == 0; });
}

// MXCSR without the sticky status flags that any arithmetic may raise.
uint32_t mxcsr_modes() { return read_mxcsr() & ~kMxcsrStatusFlags; }

TEST(FlushDenormals, OnByDefaultInTheCallerAndTheWorkers) {
  SubnormalProducts m;
  Session s(m.g, {.num_threads = 2});
  const std::vector<float> underflow = m.run(s, 1e-30f, 1e-10f);
  EXPECT_EQ(count_zeros(underflow), static_cast<int64_t>(underflow.size()));  // FTZ
  const std::vector<float> subnormal_in = m.run(s, 1e-40f, 1e10f);
  EXPECT_EQ(count_zeros(subnormal_in), static_cast<int64_t>(subnormal_in.size()));  // DAZ
}

TEST(FlushDenormals, OffGivesGradualUnderflowEverywhere) {
  SubnormalProducts m;
  Session s(m.g, {.num_threads = 2, .flush_denormals = false});
  for (float v : m.run(s, 1e-30f, 1e-10f)) {
    ASSERT_NE(v, 0.0f);
    ASSERT_EQ(std::fpclassify(v), FP_SUBNORMAL);
  }
  for (float v : m.run(s, 1e-40f, 1e10f)) ASSERT_NEAR(v, 1e-30f, 1e-35f);
}

TEST(FlushDenormals, OffHoldsEvenWhenTheCallerFlushes) {
  SubnormalProducts m;
  Session s(m.g, {.num_threads = 1, .flush_denormals = false});
  const ScopedDenormalMode caller(true);
  EXPECT_EQ(count_zeros(m.run(s, 1e-30f, 1e-10f, 64)), 0);
  EXPECT_EQ(read_mxcsr() & kDenormalBits, kDenormalBits);  // the caller's mode is back
}

TEST(FlushDenormals, TheCallersModeIsRestoredAfterARun) {
  SubnormalProducts m;
  Session on(m.g, {.num_threads = 2});
  const uint32_t before = mxcsr_modes();
  ASSERT_EQ(before & kDenormalBits, 0u);  // a fresh thread: IEEE
  m.run(on, 1e-30f, 1e-10f);
  EXPECT_EQ(mxcsr_modes(), before);
  // A failing run restores it too.
  EXPECT_THROW(on.run({}, m.product), Error);
  EXPECT_EQ(mxcsr_modes(), before);
  volatile float tiny = 1e-30f;
  EXPECT_NE(tiny * 1e-10f, 0.0f);  // and user code after the run underflows gradually
}

TEST(FlushDenormals, ScopedModeRestoresTheThreadsMxcsr) {
  const uint32_t before = mxcsr_modes();
  {
    const ScopedDenormalMode flush(true);
    EXPECT_EQ(read_mxcsr() & kDenormalBits, kDenormalBits);
    {
      const ScopedDenormalMode ieee(false);
      EXPECT_EQ(read_mxcsr() & kDenormalBits, 0u);
    }
    EXPECT_EQ(read_mxcsr() & kDenormalBits, kDenormalBits);
  }
  EXPECT_EQ(mxcsr_modes(), before);
}

// The MXCSR that each of two tasks saw, run in `arena` so that both threads of the arena
// take one (each task waits, up to a few seconds, for the other to start).
std::vector<std::pair<std::thread::id, uint32_t>> mxcsr_of_two_threads(tbb::task_arena& arena) {
  std::mutex mu;
  std::vector<std::pair<std::thread::id, uint32_t>> seen;
  std::atomic<int> started{0};
  auto task = [&] {
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    std::lock_guard lock(mu);
    seen.emplace_back(std::this_thread::get_id(), read_mxcsr());
  };
  arena.execute([&] {
    tbb::task_group tasks;
    tasks.run(task);
    tasks.run(task);
    tasks.wait();
  });
  return seen;
}

TEST(FlushDenormals, WorkersGetTheArenasModeAndLoseItOutside) {
  const uint32_t before = mxcsr_modes();
  tbb::task_arena flushing(2);
  initialize_with_denormal_mode(flushing, /*flush=*/true);
  EXPECT_EQ(mxcsr_modes(), before);
  std::set<std::thread::id> threads;
  for (const auto& [thread, mxcsr] : mxcsr_of_two_threads(flushing)) {
    threads.insert(thread);
    EXPECT_EQ(mxcsr & kDenormalBits, kDenormalBits) << (thread == std::this_thread::get_id() ? "caller" : "worker");
  }
  ASSERT_EQ(threads.size(), 2u) << "no worker joined the arena; the test proves nothing";
  EXPECT_EQ(mxcsr_modes(), before);
  // The same workers in an arena made in IEEE mode do not keep the flushing arena's mode.
  tbb::task_arena ieee(2);
  initialize_with_denormal_mode(ieee, /*flush=*/false);
  for (const auto& [thread, mxcsr] : mxcsr_of_two_threads(ieee)) EXPECT_EQ(mxcsr & kDenormalBits, 0u);
}

}  // namespace
}  // namespace horn
