// Metrics by Keras name. "accuracy" (or "acc") picks categorical, binary or sparse accuracy
// from the loss, as Keras does. Each returns a per-sample value [batch]; the model
// reports its mean over all samples.
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"

namespace horn::keras::metrics {

const std::vector<std::string>& names();
void validate(const std::string& name);
Output compute(const std::string& name, const std::string& loss_name, Output y_true, Output y_pred);

}  // namespace horn::keras::metrics
