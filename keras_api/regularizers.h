// Keras's weight regularizers: a penalty on a layer's kernel or bias that compile() adds to the
// loss (Keras: layer.losses, summed into the total loss of training and evaluation).
//
//   Dense(64, kernel_regularizer = regularizers::l2(1e-4), bias_regularizer = "l1")
//   Conv2D(32, {3, 3}, {.kernel_regularizer = regularizers::l1_l2(1e-5, 1e-4)})
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"

namespace horn::keras::regularizers {

// l1 * sum(|w|) + l2 * sum(w^2), as Keras's L1L2 (the class behind l1, l2, l1_l2, L1, L2).
// The default, both factors zero, is no regularizer: it adds nothing to the graph.
class Regularizer {
 public:
  Regularizer() = default;
  // Throws unless both factors are finite and >= 0.
  Regularizer(double l1, double l2);
  // Keras's names with their default factor 0.01: "l1", "l2", "l1_l2"; "" is none.
  Regularizer(const char* name);         // NOLINT: kernel_regularizer = "l2" converts
  Regularizer(const std::string& name);  // NOLINT
  double l1() const { return l1_; }
  double l2() const { return l2_; }
  bool active() const { return l1_ != 0 || l2_ != 0; }
  // The penalty on `w`, a scalar of w's dtype.
  Output operator()(Output w) const;
  // The text a LayerConfig holds ("l1=0,l2=0.01", exact), and back; "" is none.
  std::string text() const;
  static Regularizer from_text(const std::string& text);

 private:
  double l1_ = 0, l2_ = 0;
};

// Keras 2's functions and Keras 3's classes, with Keras's defaults.
inline Regularizer l1(double l1 = 0.01) { return Regularizer(l1, 0); }
inline Regularizer l2(double l2 = 0.01) { return Regularizer(0, l2); }
inline Regularizer l1_l2(double l1 = 0.01, double l2 = 0.01) { return Regularizer(l1, l2); }
inline Regularizer L1(double l1 = 0.01) { return Regularizer(l1, 0); }
inline Regularizer L2(double l2 = 0.01) { return Regularizer(0, l2); }
inline Regularizer L1L2(double l1 = 0, double l2 = 0) { return Regularizer(l1, l2); }

// Appends r(w) to `penalties` when r is active and w exists (a layer without a bias).
void add_penalty(const Regularizer& r, Output w, std::vector<Output>* penalties);

}  // namespace horn::keras::regularizers
