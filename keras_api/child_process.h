// Runs a piece of work in a forked child process with a wall-clock limit, to learn whether it
// ends at all: the parent never sees the work's results, only how the child ended. Horn uses it
// to try libhdf5 on an untrusted file before reading it for real (hdf5_guard.h).
//
// The child is the calling thread alone (fork copies no other thread): `work` must not need
// another thread (no oneTBB tasks) nor a lock some other thread of the parent may have held at
// the fork (the caller holds what `work` needs, e.g. hdf5_mutex(), across the call). The child
// leaves with _exit: no atexit handlers, no stdio flush, no sanitizer leak check of a copy of the
// parent. It is killed if the parent dies first. Crash signals take their default action in the
// child (no core file): a crash is a signal, and an exit code means a runtime (a sanitizer's
// report on instrumented code, libFuzzer) stopped it.
//
// A child that falls asleep is blocked for good: the work must run on memory only (a parse of
// an in-memory image), so the only thing it can wait for is a lock that another thread of the
// parent held when it forked (AddressSanitizer's allocator, unlike glibc's malloc, is not
// prepared for fork). Such a child is killed and the work forked again, a few times.
#pragma once
#include <chrono>
#include <functional>
#include <string>

namespace horn::keras {

struct ChildOutcome {
  enum class End {
    kFinished,     // `work` returned or threw: the child exited normally
    kTimedOut,     // still running at the limit: killed
    kSignalled,    // died by a signal (a crash); `signal` says which
    kExitedEarly,  // called exit() with `exit_code` (a sanitizer or fuzzer runtime stopping it)
    kBlocked,      // asleep at a lock another thread held at the fork, in each of `exit_code` forks
  };
  End end = End::kFinished;
  int signal = 0;
  int exit_code = 0;
};

// Throws horn::Error when no child can be started (fork fails) or its end cannot be learnt.
ChildOutcome run_in_child(const std::function<void()>& work, std::chrono::milliseconds limit);

// "signal 11 (Segmentation fault)", "exit code 1", "still running at the limit", for messages.
std::string describe(const ChildOutcome& outcome);

}  // namespace horn::keras
