#include "keras_api/child_process.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include "core/errors.h"

namespace horn::keras {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The child's own code for "the parent died before it could be told to die with it"; the
// parent never reads it, it only keeps the child from running on alone.
constexpr int kOrphaned = 3;

[[noreturn]] void be_the_child(const std::function<void()>& work, pid_t parent) {
  // A parent killed while it waits must not leave a child spinning in libhdf5 forever.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kOrphaned);
  // A crash here is an expected outcome, reported by the parent: no core file, and none of the
  // parent's crash handlers (a crash reporter's, or a sanitizer's, which would turn the signal
  // into an exit code that looks like its own findings).
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) ::signal(sig, SIG_DFL);
  try {
    work();
  } catch (...) {
    // A normal error: the parent's own run of the work reports it.
  }
  ::_exit(0);
}

// How a child is doing, from /proc/<pid>/stat: its state letter and CPU time in ticks.
struct Sample {
  char state = '?';
  uint64_t ticks = 0;
  bool operator==(const Sample&) const = default;
};

Sample sample(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t comm_end = text.rfind(')');  // the command name may hold spaces and parentheses
  if (comm_end == std::string::npos) return {};
  std::istringstream fields(text.substr(comm_end + 1));
  Sample s;
  std::string skip;
  fields >> s.state;
  for (int field = 4; field <= 13; ++field) fields >> skip;  // ppid .. cmajflt
  uint64_t utime = 0, stime = 0;
  fields >> utime >> stime;
  s.ticks = utime + stime;
  return s;
}

// True when the child has ended, waiting at most `wait` for it. A pidfd (fd >= 0) wakes the
// parent as soon as the child ends; kernels or sandboxes without pidfd_open get a sleep instead.
bool ended_within(int fd, pid_t pid, milliseconds wait) {
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (r >= 0 || errno == EINTR) return r > 0;
  }
  siginfo_t info{};
  const int r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  if (r == 0 && info.si_pid == pid) return true;
  if (r < 0 && errno != EINTR) return true;  // the caller's waitpid reports why
  std::this_thread::sleep_for(std::min(wait, milliseconds(10)));
  return false;
}

enum class Wait { kEnded, kTimedOut, kBlocked };

// Waits for the child until `deadline`. The work runs on memory only and never waits for
// anything, so a child seen asleep twice in a row, with no CPU time spent in between, is blocked
// for good at a lock that another thread of the parent held at the fork (an allocator that
// does not prepare for fork, such as AddressSanitizer's; glibc's malloc does).
Wait wait_for_child(pid_t pid, Clock::time_point deadline) {
  constexpr milliseconds kSampleEvery(50);
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  Wait result = Wait::kTimedOut;
  std::optional<Sample> asleep;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (ended_within(fd, pid, std::clamp(left, milliseconds(0), kSampleEvery))) {
      result = Wait::kEnded;
      break;
    }
    if (Clock::now() >= deadline) break;
    const Sample now = sample(pid);
    if (now.state != 'S') {
      asleep.reset();
    } else if (asleep && *asleep == now) {
      result = Wait::kBlocked;
      break;
    } else {
      asleep = now;
    }
  }
  if (fd >= 0) ::close(fd);
  return result;
}

// The child's status, or nothing when the kernel reaped it already: SIGCHLD is ignored in
// this process, so how it ended cannot be known.
std::optional<int> reap(pid_t pid) {
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, 0) == pid) return status;
    if (errno != EINTR) return std::nullopt;
  }
}

// One try: the child's outcome, or nothing when it blocked (see wait_for_child).
std::optional<ChildOutcome> try_in_child(const std::function<void()>& work, milliseconds limit) {
  const pid_t parent = ::getpid();
  const Clock::time_point deadline = Clock::now() + limit;
  const pid_t pid = ::fork();
  if (pid < 0) fail("cannot start a checking process: fork: ", std::strerror(errno));
  if (pid == 0) be_the_child(work, parent);
  ChildOutcome outcome;
  const Wait wait = wait_for_child(pid, deadline);
  if (wait != Wait::kEnded) {
    ::kill(pid, SIGKILL);
    reap(pid);
    if (wait == Wait::kBlocked) return std::nullopt;
    outcome.end = ChildOutcome::End::kTimedOut;
    return outcome;
  }
  const std::optional<int> ended = reap(pid);
  if (!ended)
    fail("cannot learn how the checking process ended: waitpid: ", std::strerror(errno),
         errno == ECHILD ? " (SIGCHLD is ignored in this process, so the system discarded its status)" : "");
  const int status = *ended;
  if (WIFSIGNALED(status)) {
    outcome.end = ChildOutcome::End::kSignalled;
    outcome.signal = WTERMSIG(status);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    outcome.end = ChildOutcome::End::kExitedEarly;
    outcome.exit_code = WEXITSTATUS(status);
  }
  return outcome;
}

}  // namespace

ChildOutcome run_in_child(const std::function<void()>& work, milliseconds limit) {
  // Another thread holds the lock at the fork only for a moment: a new fork soon gets past it.
  constexpr int kTries = 5;
  for (int i = 0; i < kTries; ++i)
    if (std::optional<ChildOutcome> outcome = try_in_child(work, limit)) return *outcome;
  ChildOutcome blocked;
  blocked.end = ChildOutcome::End::kBlocked;
  blocked.exit_code = kTries;
  return blocked;
}

std::string describe(const ChildOutcome& outcome) {
  switch (outcome.end) {
    case ChildOutcome::End::kFinished: return "finished";
    case ChildOutcome::End::kTimedOut: return "still running at the limit";
    case ChildOutcome::End::kSignalled: {
      const char* name = ::sigdescr_np(outcome.signal);
      return str_cat("signal ", outcome.signal, " (", name ? name : "unknown", ")");
    }
    case ChildOutcome::End::kExitedEarly: return str_cat("exit code ", outcome.exit_code);
    case ChildOutcome::End::kBlocked:
      return str_cat("blocked at a lock held by another thread at the fork, ", outcome.exit_code, " times");
  }
  return "unknown";
}

}  // namespace horn::keras
