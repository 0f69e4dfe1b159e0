#include "core/session.h"

#include <algorithm>
#include <set>
#include <thread>

#include "core/compiler/compiler.h"
#include "core/executor.h"
#include "core/flush_denormals.h"
#include "core/op_registry.h"
#include "core/plan.h"
#include "core/plan_cache.h"
#include "core/profile.h"
#include "core/tsan_handoff.h"
#include "core/variables_lock.h"

#include <oneapi/tbb/task_arena.h>

namespace horn {
namespace {

bool is_variable(const Node& n) { return n.op->is(OpRole::kVariable); }

// A run's hold on the variables: alone when its plan writes one, shared otherwise.
class VariablesAccess {
 public:
  VariablesAccess(runtime::VariablesLock& lock, bool write) : lock_(lock), write_(write) {
    write_ ? lock_.lock() : lock_.lock_shared();
  }
  ~VariablesAccess() { write_ ? lock_.unlock() : lock_.unlock_shared(); }
  VariablesAccess(const VariablesAccess&) = delete;
  VariablesAccess& operator=(const VariablesAccess&) = delete;

 private:
  runtime::VariablesLock& lock_;
  const bool write_;
};

// A run's arena, given back to its plan's pool when the run ends, however it ends.
class ArenaLease {
 public:
  explicit ArenaLease(runtime::ArenaPool& pool) : pool_(pool), arena_(pool.take()) {}
  ~ArenaLease() { pool_.give(std::move(arena_)); }
  ArenaLease(const ArenaLease&) = delete;
  ArenaLease& operator=(const ArenaLease&) = delete;
  const std::shared_ptr<uint8_t>& arena() const { return arena_; }

 private:
  runtime::ArenaPool& pool_;
  std::shared_ptr<uint8_t> arena_;
};

// "fetches[2] is output 1 of 'x', which has 1 output" when `out` names no output of its node.
void check_output_index(const Output& out, const char* what, size_t i) {
  const int n = out.node->num_outputs();
  if (out.index < 0 || out.index >= n)
    fail("Session::run: ", what, "[", i, "] is output ", out.index, " of '", out.node->name, "', which has ", n,
         " output", n == 1 ? "" : "s");
}

}  // namespace

Tensor& SessionState::variable(const Node& var) {
  auto it = variables_.find(var.name);
  if (it == variables_.end())
    fail("Variable '", var.name, "' is read before it was initialised; call ",
         "Session::initialize_variables() or assign it first");
  return it->second;
}

BFloat16Copy& SessionState::bfloat16_copy(const Node& var) {
  variable(var);  // the same error when not initialised
  return bfloat16_copies_.at(var.name);
}

Session::Session(Graph& graph, SessionOptions options)
    : graph_(graph),
      options_(std::move(options)),
      num_threads_(options_.num_threads > 0 ? options_.num_threads
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      arena_(std::make_unique<tbb::task_arena>(num_threads_)),
      variables_lock_(std::make_unique<runtime::VariablesLock>()),
      plans_(std::make_unique<runtime::PlanCache>(options_.max_cached_plans)),
      profile_(std::make_unique<runtime::Profile>()) {}

Session::~Session() = default;

void Session::initialize_variables() {
  VariablesAccess access(*variables_lock_, /*write=*/true);
  for (Node* var : graph_.variables()) {
    if (!var->attrs.has("initial_value")) continue;
    state_.set_variable(*var, var->attrs.get<Tensor>("initial_value").copy());
  }
}

Tensor Session::variable_value(const Node* var) const {
  if (!var) fail("variable_value: the variable is null");
  VariablesAccess access(*variables_lock_, /*write=*/false);
  return const_cast<SessionState&>(state_).variable(*var).copy();
}

void Session::set_variable_value(const Node* var, const Tensor& value) {
  if (!var) fail("set_variable_value: the variable is null");
  if (!is_variable(*var)) fail("set_variable_value: '", var->name, "' is not a Variable");
  const Shape& declared = var->output_shapes[0];
  if (value.dtype() != var->output_dtypes[0] || !declared.is_compatible_with(value.shape()))
    fail("Variable '", var->name, "': expected ", dtype_name(var->output_dtypes[0]), declared, ", got ",
         dtype_name(value.dtype()), value.shape());
  Tensor copy = value.copy();
  VariablesAccess access(*variables_lock_, /*write=*/true);
  state_.set_variable(*var, std::move(copy));
}

std::shared_ptr<const runtime::Plan> Session::plan_for(const Feeds& feeds, const std::vector<Output>& fetches,
                                                       const std::vector<Node*>& targets) {
  const runtime::PlanKey key =
      runtime::plan_key(feeds, fetches, targets, options_.optimize, graph_.num_nodes());
  if (auto plan = plans_->find(key)) return plan;
  // Compiled outside the cache's lock, so that runs of cached plans go on meanwhile; two
  // threads that miss at once both compile, and the first plan inserted is kept. Constant
  // folding runs kernels here: in the run's denormal mode, so folded equals unfolded.
  const ScopedDenormalMode denormal_mode(options_.flush_denormals);
  return plans_->insert(key, runtime::make_plan(graph_, feeds, fetches, targets, options_, num_threads_,
                                                plans_made_.fetch_add(1)));
}

void Session::check_run_arguments(const Feeds& feeds, const std::vector<Output>& fetches,
                                  const std::vector<Node*>& targets) const {
  std::set<const Node*> fed;
  for (size_t i = 0; i < feeds.size(); ++i) {
    const auto& [out, value] = feeds[i];
    if (!out.valid()) fail("Session::run: feeds[", i, "] has an unset key (a default-constructed Output)");
    if (out.node->graph != &graph_)
      fail("Session::run: feeds[", i, "] ('", out.node->name, "') is not in this graph");
    check_output_index(out, "feeds", i);
    if (!fed.insert(out.node).second) fail("Session::run: '", out.name(), "' is fed twice (feeds[", i, "])");
    if (out.node->num_outputs() != 1)
      fail("Session::run: cannot feed '", out.name(), "': only single-output nodes can be fed");
    const Shape& declared = out.shape();
    if (!value.defined()) fail("Session::run: the value fed to '", out.name(), "' is empty");
    if (value.dtype() != out.dtype())
      fail("Session::run: '", out.name(), "' expects ", dtype_name(out.dtype()), " but was fed ",
           dtype_name(value.dtype()), value.shape());
    if (!declared.is_compatible_with(value.shape()))
      fail("Session::run: '", out.name(), "' expects shape ", declared, " but was fed shape ", value.shape());
  }
  for (size_t i = 0; i < fetches.size(); ++i) {
    const Output& f = fetches[i];
    if (!f.valid()) fail("Session::run: fetches[", i, "] is unset (a default-constructed Output)");
    if (f.node->graph != &graph_)
      fail("Session::run: fetches[", i, "] ('", f.node->name, "') is not in this graph");
    check_output_index(f, "fetches", i);
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i]) fail("Session::run: targets[", i, "] is null");
    if (targets[i]->graph != &graph_)
      fail("Session::run: targets[", i, "] ('", targets[i]->name, "') is not in this graph");
  }
}

std::vector<Tensor> Session::run(const Feeds& feeds, const std::vector<Output>& fetches,
                                 const std::vector<Node*>& targets) {
  check_run_arguments(feeds, fetches, targets);
  const std::shared_ptr<const runtime::Plan> plan = plan_for(feeds, fetches, targets);
  for (Node* p : plan->placeholders)  // before any work is done
    fail("Session::run: Placeholder '", p->name, "' needs a value: feed it (expected ",
         dtype_name(p->output_dtypes[0]), p->output_shapes[0], ")");
  // Locks and buffers are taken here, before entering the task arena: a thread that waits
  // inside the arena may pick up another run's work, which must then never wait for them.
  VariablesAccess access(*variables_lock_, plan->writes_variables);
  ArenaLease arena(*plan->arenas);
  const runtime::RunInputs in{state_, run_counter_.fetch_add(1), arena.arena(),
                              num_threads_ > 1 && options_.concurrent_nodes, options_.profile,
                              options_.check_numerics};
  runtime::RunOutputs out;
  // Isolated: while this run waits for its own tasks, its threads take no other run's work
  // (which would hold this run's stack and thread-local kernel scratch until it finished).
  // (hand_off: the arena may run this on one of its own threads.)
  initialize_with_denormal_mode(*arena_, options_.flush_denormals);
  then_acquire(&out, [&] {
    arena_->execute(hand_off(
        [&] {
          const ScopedDenormalMode denormal_mode(options_.flush_denormals);  // tasks: the arena's
          tbb::this_task_arena::isolate([&] { out = runtime::execute(*plan, feeds, in); });
        },
        &out));
  });
  profile_->note_concurrency(out.most_concurrent);
  if (options_.profile) profile_->record(*plan, out.seconds);
  return std::move(out.fetched);
}

compiler::PlanSummary Session::plan_summary(const Feeds& feeds, const std::vector<Output>& fetches,
                                            const std::vector<Node*>& targets) {
  check_run_arguments(feeds, fetches, targets);
  return plan_for(feeds, fetches, targets)->summary;
}

std::string Session::profile_report() const { return profile_->report(); }

int Session::most_concurrent_nodes() const { return profile_->most_concurrent_nodes(); }

size_t Session::num_cached_plans() const { return plans_->size(); }

}  // namespace horn
