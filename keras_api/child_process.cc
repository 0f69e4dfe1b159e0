#include "keras_api/child_process.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
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
  try {
    work();
  } catch (...) {
    // A normal error: the parent's own run of the work reports it.
  }
  ::_exit(0);
}

// True when `pid` ended within `deadline`; its status is then collected by the caller. A
// pidfd wakes the parent as soon as the child ends; kernels or sandboxes without pidfd_open
// get a short sleep loop instead.
bool ended_by(pid_t pid, Clock::time_point deadline) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left, 1 << 30))));
      if (r > 0 || (r == 0 && left <= 0) || (r < 0 && errno != EINTR)) {
        ::close(fd);
        if (r < 0) break;  // poll itself failed: fall back to the sleep loop
        return r > 0;
      }
    }
  }
  auto pause = milliseconds(1);
  for (;;) {
    siginfo_t info{};
    const int r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && info.si_pid == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // the caller's waitpid reports why
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, milliseconds(20));
  }
}

int wait_for(pid_t pid) {
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, 0) == pid) return status;
    if (errno == EINTR) continue;
    // ECHILD: SIGCHLD is ignored in this process, so the kernel reaped the child itself.
    fail("cannot learn how the checking process ended: waitpid: ", std::strerror(errno),
         errno == ECHILD ? " (is SIGCHLD ignored in this process?)" : "");
  }
}

}  // namespace

ChildOutcome run_in_child(const std::function<void()>& work, milliseconds limit) {
  const pid_t parent = ::getpid();
  const Clock::time_point deadline = Clock::now() + limit;
  const pid_t pid = ::fork();
  if (pid < 0) fail("cannot start a checking process: fork: ", std::strerror(errno));
  if (pid == 0) be_the_child(work, parent);
  ChildOutcome outcome;
  if (!ended_by(pid, deadline)) {
    ::kill(pid, SIGKILL);
    wait_for(pid);
    outcome.end = ChildOutcome::End::kTimedOut;
    return outcome;
  }
  const int status = wait_for(pid);
  if (WIFSIGNALED(status)) {
    outcome.end = ChildOutcome::End::kSignalled;
    outcome.signal = WTERMSIG(status);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    outcome.end = ChildOutcome::End::kExitedEarly;
    outcome.exit_code = WEXITSTATUS(status);
  }
  return outcome;
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
  }
  return "unknown";
}

}  // namespace horn::keras
