// Keyword arguments in any order, as Keras code passes them:
//
//   using namespace horn::keras::kw;
//   model.add(Dense(512, activation = "relu", input_shape = {784}));
//   model.compile(loss = "categorical_crossentropy", optimizer = RMSprop(), metrics = {"accuracy"});
//   model.fit(x, y, epochs = 20, batch_size = 128, validation_data = {x_test, y_test});
//
// Each keyword (`epochs`) is an object whose `=` makes a KeywordValue; a call taking an options
// struct (FitOptions) also takes any number of KeywordValues, and each sets the struct's field
// of its name. A keyword the call has no option for, or a value of the wrong type, does not
// compile (static_assert in apply_keyword, naming the keyword and the options struct). The
// designated-initializer form (`fit(x, y, {.batch_size = 128, .epochs = 20})`) works as
// before; it must follow the struct's order, keywords need not.
#pragma once
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "keras_api/shared_list.h"

namespace horn::keras {

template <typename Keyword, typename Value>
struct KeywordValue {
  Value value;
};

template <typename T>
struct is_keyword_value : std::false_type {};
template <typename K, typename V>
struct is_keyword_value<KeywordValue<K, V>> : std::true_type {};
template <typename T>
concept KeywordArgument = is_keyword_value<std::remove_cvref_t<T>>::value;

// A braced list of numbers (`input_shape = {28, 28, 1}`, `pool_size = {2, 2}`): assigned to
// vector fields as it is, and to a field built from two numbers (HeightWidth) when it has two.
struct IntList {
  std::vector<int64_t> values;
};

// Sets `field` from a keyword's value; false (at compile time) when it cannot.
template <typename Field, typename Value>
constexpr bool keyword_assignable =
    std::is_assignable_v<Field&, Value> ||
    (std::same_as<std::remove_cvref_t<Value>, IntList> &&
     (std::is_assignable_v<Field&, std::vector<int64_t>> || std::is_constructible_v<Field, int64_t, int64_t>));

template <typename Field, typename Value>
void assign_keyword(Field& field, Value&& value, const char* keyword) {
  using V = std::remove_cvref_t<Value>;
  if constexpr (std::is_assignable_v<Field&, Value>) {
    field = std::forward<Value>(value);
  } else if constexpr (std::same_as<V, IntList> && std::is_assignable_v<Field&, std::vector<int64_t>>) {
    field = value.values;
  } else {
    if (value.values.size() != 2)
      fail("keyword argument ", keyword, ": expected 2 numbers {rows, cols}, got ", value.values.size());
    field = Field(value.values[0], value.values[1]);
  }
}

// Each keyword is one type and one object. The braced forms are overloads because a braced
// list has no type a template could deduce.
#define HORN_KERAS_KEYWORD(NAME)   \
  HORN_KERAS_KEYWORD_TYPE(NAME);   \
  inline constexpr NAME##_keyword NAME {}

#define HORN_KERAS_KEYWORD_TYPE(NAME)                                                              \
  struct NAME##_keyword {                                                                          \
    static constexpr const char* name = #NAME;                                                     \
    template <typename Options, typename Value>                                                    \
    static constexpr bool applies_to = requires(Options& o) {                                      \
      requires keyword_assignable<decltype(o.NAME), Value>;                                        \
    };                                                                                             \
    template <typename Options, typename Value>                                                    \
    static void set(Options& o, Value&& value) {                                                   \
      assign_keyword(o.NAME, std::forward<Value>(value), name);                                    \
    }                                                                                              \
    template <typename Value>                                                                      \
    KeywordValue<NAME##_keyword, std::decay_t<Value>> operator=(Value&& value) const {             \
      return {std::forward<Value>(value)};                                                         \
    }                                                                                              \
    KeywordValue<NAME##_keyword, IntList> operator=(std::initializer_list<int64_t> list) const {   \
      return {IntList{list}};                                                                      \
    }                                                                                              \
    KeywordValue<NAME##_keyword, std::vector<std::string>> operator=(                              \
        std::initializer_list<std::string> list) const {                                           \
      return {std::vector<std::string>(list)};                                                     \
    }                                                                                              \
    KeywordValue<NAME##_keyword, std::pair<Tensor, Tensor>> operator=(                             \
        std::pair<Tensor, Tensor> pair) const {                                                    \
      return {std::move(pair)};                                                                    \
    }                                                                                              \
    KeywordValue<NAME##_keyword, CallbackList> operator=(                                          \
        std::initializer_list<CallbackRef> list) const {                                           \
      return {CallbackList(list)};                                                                 \
    }                                                                                              \
  }

template <typename Options, typename Keyword, typename Value>
void apply_keyword(Options& options, const KeywordValue<Keyword, Value>& argument) {
  static_assert(Keyword::template applies_to<Options, const Value&>,
                "this call has no option named as this keyword, or not for a value of this type "
                "(the instantiation shows the keyword and the options struct)");
  Keyword::set(options, argument.value);
}

// The options struct that the keyword arguments describe, starting from its defaults.
template <typename Options, KeywordArgument... Arguments>
Options with_keywords(const Arguments&... arguments) {
  Options options{};
  (apply_keyword(options, arguments), ...);
  return options;
}


// The keywords: every option name of Horn's Keras calls (layers, compile, fit, evaluate,
// predict, Sequential, optimizers, callbacks). `using namespace horn::keras::kw;` in a
// function brings them in, or write `kw::epochs = 3`.
namespace kw {
HORN_KERAS_KEYWORD(units);
HORN_KERAS_KEYWORD(input_dim);
HORN_KERAS_KEYWORD(output_dim);
HORN_KERAS_KEYWORD(activation);
HORN_KERAS_KEYWORD(use_bias);
HORN_KERAS_KEYWORD(kernel_initializer);
HORN_KERAS_KEYWORD(bias_initializer);
HORN_KERAS_KEYWORD(input_shape);
HORN_KERAS_KEYWORD(name);
HORN_KERAS_KEYWORD(dtype);
HORN_KERAS_KEYWORD(alpha);
HORN_KERAS_KEYWORD(alpha_initializer);
HORN_KERAS_KEYWORD(shared_axes);
HORN_KERAS_KEYWORD(seed);
HORN_KERAS_KEYWORD(strides);
HORN_KERAS_KEYWORD(padding);
HORN_KERAS_KEYWORD(dilation_rate);
HORN_KERAS_KEYWORD(pool_size);
HORN_KERAS_KEYWORD(axis);
HORN_KERAS_KEYWORD(momentum);
HORN_KERAS_KEYWORD(epsilon);
HORN_KERAS_KEYWORD(center);
HORN_KERAS_KEYWORD(scale);
HORN_KERAS_KEYWORD(beta_initializer);
HORN_KERAS_KEYWORD(gamma_initializer);
HORN_KERAS_KEYWORD(moving_mean_initializer);
HORN_KERAS_KEYWORD(moving_variance_initializer);
HORN_KERAS_KEYWORD(loss);
HORN_KERAS_KEYWORD(optimizer);
// `metrics` is also where Keras's class-style metrics are (metrics::CategoricalAccuracy), so
// its object is declared beside them, in keras_api/metrics.h.
HORN_KERAS_KEYWORD_TYPE(metrics);
HORN_KERAS_KEYWORD(batch_size);
HORN_KERAS_KEYWORD(epochs);
HORN_KERAS_KEYWORD(nb_epoch);
HORN_KERAS_KEYWORD(verbose);
HORN_KERAS_KEYWORD(callbacks);
HORN_KERAS_KEYWORD(validation_split);
HORN_KERAS_KEYWORD(validation_data);
HORN_KERAS_KEYWORD(shuffle);
HORN_KERAS_KEYWORD(initial_epoch);
HORN_KERAS_KEYWORD(num_threads);
HORN_KERAS_KEYWORD(check_numerics);
HORN_KERAS_KEYWORD(flush_denormals);
HORN_KERAS_KEYWORD(learning_rate);
HORN_KERAS_KEYWORD(lr);
HORN_KERAS_KEYWORD(nesterov);
HORN_KERAS_KEYWORD(decay);
HORN_KERAS_KEYWORD(rho);
HORN_KERAS_KEYWORD(beta_1);
HORN_KERAS_KEYWORD(beta_2);
HORN_KERAS_KEYWORD(amsgrad);
HORN_KERAS_KEYWORD(schedule_decay);
HORN_KERAS_KEYWORD(monitor);
HORN_KERAS_KEYWORD(min_delta);
HORN_KERAS_KEYWORD(patience);
HORN_KERAS_KEYWORD(mode);
HORN_KERAS_KEYWORD(restore_best_weights);
HORN_KERAS_KEYWORD(save_best_only);
HORN_KERAS_KEYWORD(save_weights_only);
HORN_KERAS_KEYWORD(period);
HORN_KERAS_KEYWORD(factor);
HORN_KERAS_KEYWORD(cooldown);
HORN_KERAS_KEYWORD(min_lr);
HORN_KERAS_KEYWORD(initial_learning_rate);
HORN_KERAS_KEYWORD(decay_steps);
HORN_KERAS_KEYWORD(decay_rate);
HORN_KERAS_KEYWORD(staircase);
HORN_KERAS_KEYWORD(kernel_regularizer);
HORN_KERAS_KEYWORD(bias_regularizer);
HORN_KERAS_KEYWORD(sample_weight);
HORN_KERAS_KEYWORD(class_weight);
}  // namespace kw

}  // namespace horn::keras
