// Runs a graph: Session::run(feeds, fetches, targets), as in TensorFlow 1. A Session owns
// the values of the graph's Variables. The order of execution for a (fetches, targets,
// feeds) set is computed once and cached.
//
// Ordering rule for variables: within one run, an op that writes a variable (Assign,
// AssignSub, ...) runs after every other op of that run that reads the variable, so a
// training step's gradients always see the weights from before the step.
//
// Threads: any number of threads may call run, plan_summary, variable_value,
// set_variable_value, ... on one Session at once, and every run gives the same bits as it
// would alone. Runs that only read variables run at the same time; a run that writes one
// (a training step), initialize_variables and set_variable_value run alone, so each run
// sees the variables from before or after a whole training step, never half of one. The
// graph must not grow while runs are under way.
//
// What is process-wide, not per Session (see core/memory_tuning.h):
// - the pool of free tensor buffers (core/tensor.cc), bounded by set_buffer_pool_limit and
//   emptied by release_buffer_pool;
// - glibc's malloc thresholds, changed only by set_keep_freed_memory (off unless a program
//   turns it on: the examples and benchmarks do);
// - oneTBB's worker threads: each Session has its own task_arena of num_threads slots, but
//   the workers behind it are oneTBB's global pool (a tbb::global_control the program
//   creates limits all of them; the Session creates none);
// - per-thread kernel scratch (ops/kernel_util.h, ops/fused_program.h), kept for each
//   thread's life and grown to the largest use;
// - the MXCSR of oneTBB's workers: oneTBB sets it to the arena's for each task of this
//   Session's arena (SessionOptions::flush_denormals) and gives each thread its own back.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/compiler/compiler.h"  // PlanSummary, returned by plan_summary
#include "core/graph.h"
#include "core/tensor.h"

#include <oneapi/tbb/task_arena.h>

namespace horn {

// A float32 variable rounded to bfloat16, kept by the fused optimizer updates that write
// the variable (core/compiler/bfloat16_variable_copies.cc): mixed_bfloat16 layers read it
// instead of casting their weights again every step. `current` only while the variable has
// not been written since the copy was made: every write clears it (Executor, set_variable).
struct BFloat16Copy {
  Tensor values;
  bool current = false;
};

// Per-session state that kernels can reach: variable values. A variable is identified by
// its node's name, which is unique in a graph and kept by the compiler's copies of the graph.
// The Session locks it: kernels that write a variable run only in runs that hold it alone.
// Entries are made only by set_variable (a run holding the variables alone), so kernels of
// concurrent runs look them up without a lock.
class SessionState {
 public:
  Tensor& variable(const Node& var);  // throws when not initialised
  void set_variable(const Node& var, Tensor value) {
    variables_[var.name] = std::move(value);
    bfloat16_copies_[var.name] = {};
  }
  BFloat16Copy& bfloat16_copy(const Node& var);  // throws when not initialised
  // A write of `var` is about to start: its copy is stale from now on.
  void invalidate_bfloat16_copy(const Node& var) {
    if (auto it = bfloat16_copies_.find(var.name); it != bfloat16_copies_.end()) it->second.current = false;
  }

 private:
  std::map<std::string, Tensor> variables_;
  std::map<std::string, BFloat16Copy> bfloat16_copies_;
};

struct SessionOptions {
  int num_threads = 0;  // 0: all cores
  // Compile each plan (prune, specialise, simplify, fold, CSE, fuse, plan memory). false:
  // the reference interpreter, which runs the user's graph node by node as built.
  bool optimize = true;
  // Compiled plans with more than one thread: independent nodes (a layer's weight gradient
  // and input gradient, say) may run at the same time. The results are the same bits.
  bool concurrent_nodes = true;
  // Work (multiply-adds, or elements read and written) from which a ready node gets a task
  // of its own; smaller ones run on the thread that made them ready, as handing a task to
  // another thread costs microseconds.
  int64_t min_task_work = 1 << 16;
  bool profile = false;  // time every node; see profile_report()
  // When set (or when HORN_DUMP_DOT is), each new plan writes <dir>/plan_<n>_before.dot
  // and _after.dot (draw them with `dot -Tsvg`).
  std::string dump_dot_dir;
  // Plans kept for reuse, least recently used dropped first: a plan holds a compiled graph
  // and its arenas, and each new batch size makes a plan.
  size_t max_cached_plans = 64;
  // After every node, scan its float outputs and stop the run at the first NaN or infinity
  // with an error naming the op, the node, its layer and the run (TensorFlow's
  // enable_check_numerics). Off: no cost. On: one read of every output (bench/README.md).
  bool check_numerics = false;
  // Flush-to-zero and denormals-are-zero (core/flush_denormals.h) in every thread while it
  // runs this Session's kernels or compiles its plans: subnormal floats become 0 instead of
  // costing ~100 cycles each. On by default, as in TensorFlow's executor threads; false
  // gives IEEE gradual underflow (PyTorch's default). Either way the caller's own MXCSR is
  // restored when a run returns.
  bool flush_denormals = true;
};

namespace runtime {
struct Plan;
class PlanCache;
class Profile;
class VariablesLock;
}  // namespace runtime

class Session {
 public:
  using Feeds = std::vector<std::pair<Output, Tensor>>;

  explicit Session(Graph& graph, SessionOptions options = {});
  ~Session();

  // Computes `fetches` and runs `targets` (ops run for their effect, such as updates).
  // Refused before any work: a key fed twice, outputs or targets not of this graph (or
  // with an output index their node does not have), unfed placeholders the run needs.
  std::vector<Tensor> run(const Feeds& feeds, const std::vector<Output>& fetches,
                          const std::vector<Node*>& targets = {});
  Tensor run(const Feeds& feeds, Output fetch) { return run(feeds, std::vector<Output>{fetch})[0]; }

  // Sets every Variable to a copy of its initial value (its "initial_value" attribute).
  void initialize_variables();
  Tensor variable_value(const Node* var) const;  // a copy
  void set_variable_value(const Node* var, const Tensor& value);  // checks dtype and shape

  int num_threads() const { return num_threads_; }
  // What the compiler made of a run with these feeds, fetches and targets (compiles the
  // plan if it is not cached yet, runs nothing): node counts per pass, fusions, memory. A
  // copy: the cache may drop the plan at any time.
  compiler::PlanSummary plan_summary(const Feeds& feeds, const std::vector<Output>& fetches,
                                     const std::vector<Node*>& targets = {});
  // With SessionOptions::profile: total time per node over all runs, slowest first, and
  // how many nodes ran at the same time at most (counted with or without profile).
  std::string profile_report() const;
  int most_concurrent_nodes() const;
  size_t num_cached_plans() const;

  // The number of runs so far; random ops draw from it. Saved with a model so that a
  // restored session continues the same random streams. A run takes its number when it
  // starts (after its arguments are checked); one that fails in a kernel still used it.
  uint64_t run_counter() const { return run_counter_.load(); }
  void set_run_counter(uint64_t n) { run_counter_.store(n); }
  Graph& graph() { return graph_; }

 private:
  std::shared_ptr<const runtime::Plan> plan_for(const Feeds& feeds, const std::vector<Output>& fetches,
                                                const std::vector<Node*>& targets);
  void check_run_arguments(const Feeds& feeds, const std::vector<Output>& fetches,
                           const std::vector<Node*>& targets) const;

  Graph& graph_;
  SessionOptions options_;
  int num_threads_;
  std::unique_ptr<tbb::task_arena> arena_;
  SessionState state_;
  std::unique_ptr<runtime::VariablesLock> variables_lock_;  // guards state_
  std::atomic<uint64_t> run_counter_{0};
  std::atomic<int> plans_made_{0};  // numbers the DOT files
  std::unique_ptr<runtime::PlanCache> plans_;
  std::unique_ptr<runtime::Profile> profile_;
};

}  // namespace horn
