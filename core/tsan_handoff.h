// Happens-before edges for ThreadSanitizer across oneTBB hand-offs. Debian's libtbb is not
// built with -fsanitize=thread, so TSan cannot see that a task starts after it was spawned,
// or that a wait returns after the tasks finished, and reports races that are not there.
// Wrapping what is handed to oneTBB states these edges; it costs nothing in other builds.
//
//   const int done = 0;                                  // any address, one per wait
//   then_acquire(&done, [&] {                            // the wait, then the acquire
//     tbb::parallel_for(range, hand_off(body, &done));   // or task_group::wait, execute
//   });
#pragma once
#include <utility>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace horn {

inline void tsan_release([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(const_cast<void*>(sync));
#endif
}

inline void tsan_acquire([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(const_cast<void*>(sync));
#endif
}

// Calls `wait` (a oneTBB call that returns once the handed-off work is done) and then
// acquires `done`, also when the wait rethrows a task's exception: oneTBB has waited for
// every task by then, and what the caller frees next comes after them.
template <typename Wait>
void then_acquire(const void* done, Wait&& wait) {
  struct Acquired {
    const void* sync;
    ~Acquired() { tsan_acquire(sync); }
  } const acquired{done};
  wait();
}

// A function object handed to oneTBB, which copies it into task objects and runs a copy on
// any thread. Each copy is released by the thread that makes it and acquired, by its own
// address (no memory read needed), by the thread that runs it; each call releases `done`.
template <typename F>
class HandOff {
 public:
  HandOff(F f, const void* done) : f_(std::move(f)), done_(done) { tsan_release(this); }
  HandOff(const HandOff& other) : f_((tsan_acquire(&other), other.f_)), done_(other.done_) {
    tsan_release(this);
  }
  HandOff(HandOff&& other) noexcept : f_((tsan_acquire(&other), std::move(other.f_))), done_(other.done_) {
    tsan_release(this);
  }
  HandOff& operator=(const HandOff&) = delete;

  template <typename... Args>
  void operator()(Args&&... args) const {
    tsan_acquire(this);
    const Released released{done_};  // also when f_ throws
    f_(std::forward<Args>(args)...);
  }

 private:
  struct Released {
    const void* sync;
    ~Released() { tsan_release(sync); }
  };
  F f_;
  const void* done_;
};

template <typename F>
HandOff<F> hand_off(F f, const void* done) {
  return HandOff<F>(std::move(f), done);
}

}  // namespace horn
