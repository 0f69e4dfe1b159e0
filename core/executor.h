// Runs a plan's nodes (internal to the Session): one at a time in the plan's order, or,
// with concurrency, each as soon as what it waits for is done. Many runs may execute the
// same plan at once: each brings its own arena and keeps its values to itself.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/plan.h"
#include "core/tensor.h"

namespace horn {
class SessionState;
}

namespace horn::runtime {

// What one run brings to the plan.
struct RunInputs {
  SessionState& state;
  uint64_t run_index = 0;          // given to kernels: random ops draw from (seed, run, index)
  std::shared_ptr<uint8_t> arena;  // the memory plan's buffers, this run's alone
  bool concurrent = false;         // independent nodes may run at the same time
  bool profile = false;            // time every node
  bool check_numerics = false;     // stop at the first NaN or infinity (core/numeric_check.h)
};

struct RunOutputs {
  std::vector<Tensor> fetched;  // owned by the caller: never storage the session keeps
  std::vector<double> seconds;  // per node id, with RunInputs::profile
  int most_concurrent = 1;      // nodes that ran at the same time, at most
};

// Call inside the session's task arena. Every Placeholder the plan needs must be fed.
RunOutputs execute(const Plan& plan, const Feeds& feeds, const RunInputs& run);

}  // namespace horn::runtime
