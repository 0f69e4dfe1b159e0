// Callbacks as Keras code passes them: `callbacks = {EarlyStopping(...), CSVLogger("log.csv")}`.
// A callback given by value is copied into the list; one given as a shared_ptr is shared, for
// reading it after fit (EarlyStopping's stopped_epoch, a History).
#pragma once
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

namespace horn::keras {

class Callback;

class CallbackRef {
 public:
  template <typename C>
    requires std::derived_from<C, Callback>
  CallbackRef(C callback) : callback_(std::make_shared<C>(std::move(callback))) {}  // NOLINT: implicit
  template <typename C>
    requires std::derived_from<C, Callback>
  CallbackRef(std::shared_ptr<C> callback) : callback_(std::move(callback)) {}  // NOLINT: implicit
  CallbackRef(std::nullptr_t) {}  // NOLINT: fit refuses it, naming its place in the list
  const std::shared_ptr<Callback>& get() const { return callback_; }

 private:
  std::shared_ptr<Callback> callback_;
};

class CallbackList : public std::vector<std::shared_ptr<Callback>> {
 public:
  CallbackList() = default;
  CallbackList(std::vector<std::shared_ptr<Callback>> callbacks)  // NOLINT: implicit
      : vector(std::move(callbacks)) {}
  CallbackList(std::initializer_list<CallbackRef> callbacks) {
    for (const CallbackRef& c : callbacks) push_back(c.get());
  }
};

}  // namespace horn::keras
