// The lock on a Session's variable values (internal to the Session): runs that only read
// variables share it, a run that updates them (a training step) and set_variable_value
// hold it alone. Waiting writers go first, so a training step is not starved by a stream
// of predictions.
#pragma once
#include <condition_variable>
#include <mutex>

namespace horn::runtime {

class VariablesLock {
 public:
  void lock_shared() {
    std::unique_lock<std::mutex> lock(mutex_);
    can_read_.wait(lock, [&] { return !writing_ && waiting_writers_ == 0; });
    ++readers_;
  }
  void unlock_shared() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--readers_ == 0) can_write_.notify_one();
  }
  void lock() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_writers_;
    can_write_.wait(lock, [&] { return !writing_ && readers_ == 0; });
    --waiting_writers_;
    writing_ = true;
  }
  void unlock() {
    std::lock_guard<std::mutex> lock(mutex_);
    writing_ = false;
    if (waiting_writers_ > 0) {
      can_write_.notify_one();
    } else {
      can_read_.notify_all();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable can_read_, can_write_;
  int readers_ = 0;
  int waiting_writers_ = 0;
  bool writing_ = false;
};

}  // namespace horn::runtime
