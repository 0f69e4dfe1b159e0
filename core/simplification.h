// Helpers for ops' simplification rules (OpDef::simplify), which the compiler's algebraic
// simplification applies: x + 0, x * 1, reshape to the same shape, ...
#pragma once
#include "core/graph.h"

namespace horn {

// True when `o` is a non-empty constant whose every element equals `v`.
bool is_filled_constant(const Output& o, double v);
// `x` when it has the dtype and fully known shape of `node`'s output 0 (so no broadcast
// grew it), else an invalid Output.
Output if_same_shape(const Output& x, const Node& node);
// The rule of ops that return input 0 unchanged when the shapes and dtypes agree (Reshape,
// BroadcastLike, ReduceToShapeLike, Cast, StopGradient at run time, ...).
Output identity_when_same_shape(const Node& node);

}  // namespace horn
