// A plan: one compiled way to run a (fetches, targets, feeds) set, built once and then
// shared, read-only, by every run that uses it, on any thread (internal to the Session).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/compiler/compiler.h"
#include "core/compiler/memory_plan.h"
#include "core/graph.h"
#include "core/schedule.h"
#include "core/tensor.h"

namespace horn {
struct SessionOptions;
}

namespace horn::runtime {

using Feeds = std::vector<std::pair<Output, Tensor>>;

// The arenas of one plan. Each run writes its planned buffers into an arena of its own;
// runs give them back, and up to `max_idle` are kept for the next runs.
class ArenaPool {
 public:
  ArenaPool(int64_t bytes, size_t max_idle) : bytes_(bytes), max_idle_(max_idle) {}
  // A free arena, or a new one; null when the plan needs none.
  std::shared_ptr<uint8_t> take();
  // Keeps `arena` for later runs unless tensors still share it or enough are kept.
  void give(std::shared_ptr<uint8_t> arena);

 private:
  const int64_t bytes_;
  const size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<uint8_t>> idle_;
};

struct Plan {
  std::unique_ptr<compiler::CompiledGraph> compiled;  // null for the reference interpreter
  Graph* graph = nullptr;        // what runs: the compiled copy, or the user's graph
  std::vector<Output> fetches;   // in `graph`
  std::vector<Node*> feeds;      // in `graph`, in feed order
  std::vector<Node*> order;      // topological
  std::vector<int> uses;         // per node id: readers in this plan (to free values early)
  std::vector<bool> fed;         // per node id
  compiler::MemoryPlan memory;   // empty for the reference interpreter
  // For running independent nodes concurrently (compiled plans): empty otherwise.
  Dependencies dependencies;
  std::vector<Node*> placeholders;  // unfed Placeholders the run would need
  bool writes_variables = false;    // some node updates a variable in place
  compiler::PlanSummary summary;
  std::unique_ptr<ArenaPool> arenas;  // runs share the plan, not its buffers
};

// Compiles (with options.optimize) and schedules a plan. `number` names its DOT files.
std::shared_ptr<const Plan> make_plan(Graph& graph, const Feeds& feeds, const std::vector<Output>& fetches,
                                      const std::vector<Node*>& targets, const SessionOptions& options,
                                      int max_concurrent_runs, int number);

}  // namespace horn::runtime
