// Lists that Keras code writes with values: `callbacks = {EarlyStopping(...), CSVLogger("log.csv")}`,
// `Sequential({Dense(512, ...), Dropout(0.2)})`. An element given by value is copied into the
// list; one given as a shared_ptr is shared, for reading it afterwards (EarlyStopping's
// stopped_epoch, a layer's weights).
#pragma once
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

namespace horn::keras {

template <typename Base>
class ValueOrShared {
 public:
  template <typename T>
    requires std::derived_from<T, Base>
  ValueOrShared(T value) : ptr_(std::make_shared<T>(std::move(value))) {}  // NOLINT: implicit
  template <typename T>
    requires std::derived_from<T, Base>
  ValueOrShared(std::shared_ptr<T> shared) : ptr_(std::move(shared)) {}  // NOLINT: implicit
  ValueOrShared(std::nullptr_t) {}  // NOLINT: the list's user refuses it, naming its place
  const std::shared_ptr<Base>& get() const { return ptr_; }

 private:
  std::shared_ptr<Base> ptr_;
};

template <typename Base>
class SharedList : public std::vector<std::shared_ptr<Base>> {
 public:
  SharedList() = default;
  SharedList(std::vector<std::shared_ptr<Base>> items)  // NOLINT: implicit
      : std::vector<std::shared_ptr<Base>>(std::move(items)) {}
  SharedList(std::initializer_list<ValueOrShared<Base>> items) {
    for (const ValueOrShared<Base>& item : items) this->push_back(item.get());
  }
};

class Callback;
class Layer;
using CallbackList = SharedList<Callback>;
using CallbackRef = ValueOrShared<Callback>;
using LayerList = SharedList<Layer>;

}  // namespace horn::keras
