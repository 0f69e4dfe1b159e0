// run_in_child (keras_api/child_process.h): each way a child can end is told apart, and the
// parent never sees the child's memory. Limits are either far beyond what the work needs or
// for work that never ends, so no outcome depends on the machine's speed.
#include "keras_api/child_process.h"

#include <signal.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/errors.h"
#include "tests/test_util.h"

namespace horn::keras {
namespace {
using std::chrono::milliseconds;
using End = ChildOutcome::End;

constexpr milliseconds kAmple(120'000);

TEST(ChildProcess, WorkThatReturnsOrThrowsHasFinished) {
  EXPECT_EQ(run_in_child([] {}, kAmple).end, End::kFinished);
  EXPECT_EQ(run_in_child([] { fail("an ordinary error"); }, kAmple).end, End::kFinished);
  EXPECT_EQ(run_in_child([] { throw std::logic_error("any exception"); }, kAmple).end, End::kFinished);
}

TEST(ChildProcess, WorkThatNeverEndsIsKilledAtTheLimit) {
  volatile bool forever = true;
  const ChildOutcome outcome = run_in_child([&] { while (forever) {} }, milliseconds(300));
  EXPECT_EQ(outcome.end, End::kTimedOut);
  EXPECT_EQ(describe(outcome), "still running at the limit");
  // Asleep, not spinning: work that waits for nothing can only be blocked (see below).
  EXPECT_EQ(run_in_child([] { ::pause(); }, kAmple).end, End::kBlocked);
}

TEST(ChildProcess, ACrashIsASignalOrAnEarlyExit) {
  // SIGKILL, because sanitizers turn catchable crash signals into exits of their own.
  const ChildOutcome killed = run_in_child([] { ::raise(SIGKILL); }, kAmple);
  EXPECT_EQ(killed.end, End::kSignalled);
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(describe(killed), "signal 9 (Killed)");
  const ChildOutcome exited = run_in_child([] { ::_exit(7); }, kAmple);
  EXPECT_EQ(exited.end, End::kExitedEarly);
  EXPECT_EQ(describe(exited), "exit code 7");
}

TEST(ChildProcess, TheChildsWritesStayInTheChild) {
  int value = 1;
  EXPECT_EQ(run_in_child([&] { value = 2; }, kAmple).end, End::kFinished);
  EXPECT_EQ(value, 1);
}

// A lock another thread holds at the fork stays held in the child forever: the child is
// forked again a few times, then reported as blocked, long before the limit.
TEST(ChildProcess, AChildBlockedAtAnInheritedLockIsRetriedThenReported) {
  std::mutex m;
  std::promise<void> locked, release;
  std::thread holder([&] {
    std::lock_guard<std::mutex> hold(m);
    locked.set_value();
    release.get_future().wait();
  });
  locked.get_future().wait();
  const ChildOutcome outcome = run_in_child([&] { std::lock_guard<std::mutex> wait(m); }, kAmple);
  release.set_value();
  holder.join();
  EXPECT_EQ(outcome.end, End::kBlocked);
  EXPECT_EQ(describe(outcome), "blocked at a lock held by another thread at the fork, 5 times");
}

// With SIGCHLD ignored the kernel discards a child's status: an error, never a guess.
TEST(ChildProcess, AnUnknowableEndIsAnError) {
  struct sigaction ignore {}, before{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGCHLD, &ignore, &before);
  testing::expect_error([] { run_in_child([] {}, kAmple); }, {"cannot learn how the checking process ended",
                                                              "SIGCHLD is ignored"});
  volatile bool forever = true;
  EXPECT_EQ(run_in_child([&] { while (forever) {} }, milliseconds(100)).end, End::kTimedOut);
  ::sigaction(SIGCHLD, &before, nullptr);
}

}  // namespace
}  // namespace horn::keras
