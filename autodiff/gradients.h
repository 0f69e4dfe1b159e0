// Reverse-mode automatic differentiation over the graph, like TensorFlow 1's tf.gradients.
//
//   Output loss = ...;
//   std::vector<Output> grads = autodiff::gradients({loss}, {w, b});
//
// The gradients are ordinary nodes of the same graph (named "gradients/<forward node>/..."),
// so they can be fetched, compiled, and differentiated again.
#pragma once
#include <vector>

#include "core/graph.h"

namespace horn::autodiff {

// What to return for an x that no y depends on (tf.gradients' `unconnected_gradients`).
enum class Unconnected {
  kNone,  // an invalid Output (`!out.valid()`): the caller can test for it
  kZero,  // ZerosLike(x)
};

struct GradientOptions {
  Unconnected unconnected = Unconnected::kNone;
};

// For each x: sum over ys of d(y)/d(x), each y weighted by its grad_ys entry (default: ones
// shaped like y). Only nodes on a path from an x to a y are differentiated. Contributions
// from several paths are summed once, in a fixed order. Integer-typed tensors, StopGradient
// and non-differentiable ops (ArgMax, Equal, OneHot, ...) pass no gradient. An op on a path
// whose gradient is needed but has no rule is an Error naming the op, the node and the path.
std::vector<Output> gradients(const std::vector<Output>& ys, const std::vector<Output>& xs,
                              const std::vector<Output>& grad_ys = {},
                              GradientOptions options = {});

}  // namespace horn::autodiff
