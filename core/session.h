// Runs a graph: Session::run(feeds, fetches, targets), as in TensorFlow 1. A Session owns
// the values of the graph's Variables. The order of execution for a (fetches, targets,
// feeds) set is computed once and cached.
//
// Ordering rule for variables: within one run, an op that writes a variable (Assign,
// AssignSub, ...) runs after every other op of that run that reads the variable, so a
// training step's gradients always see the weights from before the step.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/graph.h"
#include "core/tensor.h"

#include <oneapi/tbb/task_arena.h>

namespace horn {

// Per-session state that kernels can reach: variable values and the random-stream counter.
// A variable is identified by its node's name, which is unique in a graph and kept by the
// compiler's copies of the graph.
class SessionState {
 public:
  Tensor& variable(const Node& var);  // throws when not initialised
  void set_variable(const Node& var, Tensor value) { variables_[var.name] = std::move(value); }
  // Increments once per run; random ops mix it into their stream so every run differs.
  uint64_t run_counter() const { return run_counter_; }
  void next_run() { ++run_counter_; }
  void set_run_counter(uint64_t n) { run_counter_ = n; }

 private:
  std::map<std::string, Tensor> variables_;
  uint64_t run_counter_ = 0;
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
};

namespace compiler {
struct PlanSummary;
}

class Session {
 public:
  using Feeds = std::vector<std::pair<Output, Tensor>>;

  explicit Session(Graph& graph, SessionOptions options = {});
  ~Session();

  // Computes `fetches` and runs `targets` (ops run for their effect, such as updates).
  std::vector<Tensor> run(const Feeds& feeds, const std::vector<Output>& fetches,
                          const std::vector<Node*>& targets = {});
  Tensor run(const Feeds& feeds, Output fetch) { return run(feeds, std::vector<Output>{fetch})[0]; }

  // Sets every Variable to a copy of its initial value (its "initial_value" attribute).
  void initialize_variables();
  Tensor variable_value(const Node* var) const;  // a copy
  void set_variable_value(const Node* var, const Tensor& value);  // checks dtype and shape

  int num_threads() const { return num_threads_; }
  // What the compiler made of a run with these feeds, fetches and targets (compiles the
  // plan if it is not cached yet, runs nothing): node counts per pass, fusions, memory.
  const compiler::PlanSummary& plan_summary(const Feeds& feeds, const std::vector<Output>& fetches,
                                            const std::vector<Node*>& targets = {});
  // With SessionOptions::profile: total time per node over all runs, slowest first, and
  // how many nodes ran at the same time at most (counted with or without profile).
  std::string profile_report() const;
  int most_concurrent_nodes() const { return most_concurrent_nodes_; }

  // The number of runs so far; random ops draw from it. Saved with a model so that a
  // restored session continues the same random streams.
  uint64_t run_counter() const { return state_.run_counter(); }
  void set_run_counter(uint64_t n) { state_.set_run_counter(n); }
  Graph& graph() { return graph_; }

 private:
  struct Plan;
  const Plan& plan_for(const Feeds& feeds, const std::vector<Output>& fetches,
                       const std::vector<Node*>& targets);
  void plan_dependencies(Plan& plan, const std::vector<std::vector<Node*>>& edges) const;
  std::vector<Tensor> execute(const Plan& plan, const Feeds& feeds);
  void run_concurrently(const Plan& plan, std::vector<std::vector<Tensor>>& values,
                        std::vector<std::atomic<int>>& uses, std::vector<double>* timing);
  // Runs one node: its kernel on its inputs' values, into its planned buffers; frees the
  // inputs it was the last reader of. `seconds` (per node id) gets its time if not null.
  void run_node(const Plan& plan, Node* node, std::vector<std::vector<Tensor>>& values,
                std::vector<std::atomic<int>>& uses, std::vector<double>* seconds);

  void check_run_arguments(const Feeds& feeds, const std::vector<Output>& fetches,
                           const std::vector<Node*>& targets) const;

  Graph& graph_;
  SessionOptions options_;
  int num_threads_;
  std::unique_ptr<tbb::task_arena> arena_;
  SessionState state_;
  std::map<std::vector<int64_t>, std::unique_ptr<Plan>> plans_;
  struct NodeTime {
    std::string op;
    double seconds = 0;
    int64_t calls = 0;
  };
  std::map<std::string, NodeTime> profile_;
  int most_concurrent_nodes_ = 1;
};

}  // namespace horn
