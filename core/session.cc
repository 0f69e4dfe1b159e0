#include "core/session.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/compiler/compiler.h"
#include "core/compiler/memory_plan.h"
#include "core/op_registry.h"

#include <oneapi/tbb/task_group.h>

namespace horn {

Tensor& SessionState::variable(const Node& var) {
  auto it = variables_.find(var.name);
  if (it == variables_.end())
    fail("Variable '", var.name, "' is read before it was initialised; call ",
         "Session::initialize_variables() or assign it first");
  return it->second;
}

// One cached way to run (fetches, targets, feeds): the graph it runs (the compiled copy, or
// the user's graph for the reference interpreter), the order, and the memory plan.
struct Session::Plan {
  std::unique_ptr<compiler::CompiledGraph> compiled;
  Graph* graph = nullptr;
  std::vector<Output> fetches;   // in `graph`
  std::vector<Node*> feeds;      // in `graph`, in feed order
  std::vector<Node*> order;      // topological, ties broken by node id
  std::vector<int> uses;         // per node id: readers in this plan (to free values early)
  std::vector<bool> fed;         // per node id
  compiler::MemoryPlan memory;   // empty for the reference interpreter
  // For running independent nodes concurrently (compiled plans, more than one thread):
  // what must finish before each node (data, control, variable and buffer-reuse edges).
  std::vector<std::vector<int>> successors;  // per node id, by position in `order`
  std::vector<int> predecessors;             // per node id: how many edges come in
  std::vector<bool> spawn;                   // per node id: worth a task of its own
  std::vector<Node*> placeholders;           // unfed Placeholders the run would need
  std::shared_ptr<uint8_t> arena;
  compiler::PlanSummary summary;
};

namespace {

// Kernels free and re-allocate the same large blocks every step (Eigen's GEMM packing
// buffers among them). glibc's defaults hand such memory back to the OS between steps, so
// every step pays page faults for it again: they cost more than the arithmetic at MNIST
// sizes. Keep freed memory in the process instead.
void keep_freed_memory() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  });
}

bool depends_on(const Node* from, const Node* target, const std::vector<bool>& needed) {
  std::vector<const Node*> stack{from};
  std::vector<bool> seen(from->graph->num_nodes(), false);
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n == target) return true;
    if (seen[n->id] || !needed[n->id]) continue;
    seen[n->id] = true;
    for (const Output& in : n->inputs) stack.push_back(in.node);
    for (const Node* c : n->control_inputs) stack.push_back(c);
  }
  return false;
}

// Readers of a variable: consumers of its output, looking through views of it.
void collect_readers(Node* source, const std::vector<std::vector<Node*>>& consumers, std::vector<Node*>* readers) {
  for (Node* c : consumers[source->id]) {
    readers->push_back(c);
    const int k = viewed_input(*c);
    if (k >= 0 && c->inputs[k].node == source) collect_readers(c, consumers, readers);
  }
}

std::vector<Node*> written_variables(const Node& writer) {
  std::vector<Node*> vars;
  for (int i : written_variable_inputs(writer)) vars.push_back(writer.inputs[i].node);
  return vars;
}

// The execution order of everything `roots` need, not crossing fed nodes. Besides data and
// control edges, every write of a variable comes after every other read of it in the run.
void schedule(Graph& g, const std::vector<Node*>& roots, const std::vector<bool>& fed, std::vector<Node*>* order,
              std::vector<std::vector<Node*>>* edges) {
  const int n = g.num_nodes();
  std::vector<bool> needed(n, false);
  std::vector<Node*> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (needed[node->id]) continue;
    needed[node->id] = true;
    if (fed[node->id]) continue;
    for (const Output& in : node->inputs) stack.push_back(in.node);
    for (Node* c : node->control_inputs) stack.push_back(c);
  }
  std::vector<std::vector<Node*>> consumers(n), successors(n);
  std::vector<int> indegree(n, 0);
  auto add_edge = [&](Node* from, Node* to) {
    successors[from->id].push_back(to);
    ++indegree[to->id];
  };
  for (int id = 0; id < n; ++id) {
    Node* node = g.node(id);
    if (!needed[id] || fed[id]) continue;
    for (const Output& in : node->inputs) {
      consumers[in.node->id].push_back(node);
      add_edge(in.node, node);
    }
    for (Node* c : node->control_inputs) add_edge(c, node);
  }
  for (int id = 0; id < n; ++id) {
    Node* writer = g.node(id);
    if (!needed[id] || fed[id] || !writer->op->has(kWritesVariable)) continue;
    std::vector<Node*> readers;
    for (Node* var : written_variables(*writer)) collect_readers(var, consumers, &readers);
    for (Node* r : readers)
      if (r != writer && !depends_on(r, writer, needed)) add_edge(r, writer);
  }
  // Depth first: the node that became ready last runs next (ties: variable writers first,
  // then the lowest id). A value's consumers then run soon after it, so it dies soon: an
  // optimizer update runs as soon as it may, freeing its gradient before the next one is
  // made, which lowers peak memory.
  std::vector<int> ready;
  for (int id = n - 1; id >= 0; --id)
    if (needed[id] && indegree[id] == 0) ready.push_back(id);
  while (!ready.empty()) {
    Node* node = g.node(ready.back());
    ready.pop_back();
    order->push_back(node);
    std::vector<int> now_ready;
    for (Node* s : successors[node->id])
      if (--indegree[s->id] == 0) now_ready.push_back(s->id);
    std::sort(now_ready.begin(), now_ready.end(), [&](int a, int b) {  // popped from the back
      const bool wa = g.node(a)->op->has(kWritesVariable), wb = g.node(b)->op->has(kWritesVariable);
      return wa != wb ? wb : a > b;
    });
    ready.insert(ready.end(), now_ready.begin(), now_ready.end());
  }
  if (order->size() != static_cast<size_t>(std::count(needed.begin(), needed.end(), true)))
    fail("Session::run: the graph has a cycle among the nodes needed for this run");
  *edges = std::move(successors);
}

std::string dump_dir(const SessionOptions& o) {
  if (!o.dump_dot_dir.empty()) return o.dump_dot_dir;
  const char* env = std::getenv("HORN_DUMP_DOT");
  return env ? env : "";
}

}  // namespace

Session::Session(Graph& graph, SessionOptions options)
    : graph_(graph),
      options_(std::move(options)),
      num_threads_(options_.num_threads > 0 ? options_.num_threads
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      arena_(std::make_unique<tbb::task_arena>(num_threads_)) {
  keep_freed_memory();
}

Session::~Session() = default;

void Session::initialize_variables() {
  for (Node* var : graph_.variables()) {
    if (!var->attrs.has("initial_value")) continue;
    state_.set_variable(*var, var->attrs.get<Tensor>("initial_value").copy());
  }
}

Tensor Session::variable_value(const Node* var) const {
  return const_cast<SessionState&>(state_).variable(*var).copy();
}

void Session::set_variable_value(const Node* var, const Tensor& value) {
  if (!var->op->is(OpRole::kVariable)) fail("set_variable_value: '", var->name, "' is not a Variable");
  const Shape& declared = var->output_shapes[0];
  if (value.dtype() != var->output_dtypes[0] || !declared.is_compatible_with(value.shape()))
    fail("Variable '", var->name, "': expected ", dtype_name(var->output_dtypes[0]), declared, ", got ",
         dtype_name(value.dtype()), value.shape());
  state_.set_variable(*var, value.copy());
}

const Session::Plan& Session::plan_for(const Feeds& feeds, const std::vector<Output>& fetches,
                                       const std::vector<Node*>& targets) {
  std::vector<int64_t> key;
  for (const Output& f : fetches) key.insert(key.end(), {f.node->id, f.index});
  key.push_back(-1);
  for (const Node* t : targets) key.push_back(t->id);
  key.push_back(-2);
  for (const auto& [out, value] : feeds) {
    key.push_back(out.node->id);
    if (options_.optimize) {  // compiled plans are specialised to the fed shapes
      key.push_back(static_cast<int64_t>(value.dtype()));
      key.insert(key.end(), value.shape().dims().begin(), value.shape().dims().end());
      key.push_back(-3);
    }
  }
  key.push_back(graph_.num_nodes());  // a graph that grew may need a new plan
  if (auto it = plans_.find(key); it != plans_.end()) return *it->second;

  auto plan = std::make_unique<Plan>();
  if (options_.optimize) {
    std::vector<compiler::FeedSpec> specs;
    for (const auto& [out, value] : feeds) specs.push_back({out, value.dtype(), value.shape()});
    compiler::Compilation c = compiler::compile(graph_, fetches, targets, specs);
    plan->compiled = std::make_unique<compiler::CompiledGraph>(std::move(c.graph));
    plan->summary = std::move(c.summary);
    plan->graph = plan->compiled->graph.get();
    plan->fetches = plan->compiled->fetches;
    plan->feeds = plan->compiled->feeds;
  } else {
    plan->graph = &graph_;
    plan->fetches = fetches;
    for (const auto& [out, value] : feeds) plan->feeds.push_back(out.node);
  }
  Graph& g = *plan->graph;
  plan->fed.assign(g.num_nodes(), false);
  for (Node* f : plan->feeds) plan->fed[f->id] = true;
  std::vector<Node*> roots = options_.optimize ? plan->compiled->targets : targets;
  for (const Output& f : plan->fetches) roots.push_back(f.node);
  std::vector<std::vector<Node*>> edges;
  schedule(g, roots, plan->fed, &plan->order, &edges);
  for (Node* node : plan->order)
    if (node->op->is(OpRole::kPlaceholder) && !plan->fed[node->id]) plan->placeholders.push_back(node);

  plan->uses.assign(g.num_nodes(), 0);
  for (const Output& f : plan->fetches) ++plan->uses[f.node->id];  // fetched: kept to the end
  for (Node* node : plan->order)
    if (!plan->fed[node->id])
      for (const Output& in : node->inputs) ++plan->uses[in.node->id];
  if (options_.optimize) {
    plan->memory = compiler::plan_memory(g, plan->order, plan->fetches, plan->fed);
    plan->summary.arena_bytes = plan->memory.arena_bytes;
    plan->summary.unshared_bytes = plan->memory.unshared_bytes;
    plan->summary.in_place = plan->memory.in_place;
    plan_dependencies(*plan, edges);
    if (plan->memory.arena_bytes > 0) {
      auto* base = static_cast<uint8_t*>(std::aligned_alloc(64, plan->memory.arena_bytes));
      if (!base) fail("Session: out of memory for a ", plan->memory.arena_bytes, "-byte arena");
      plan->arena = std::shared_ptr<uint8_t>(base, [](uint8_t* p) { std::free(p); });
    }
    if (const std::string dir = dump_dir(options_); !dir.empty()) {
      const std::string stem = dir + "/plan_" + std::to_string(plans_.size());
      std::ofstream(stem + "_before.dot") << graph_.to_dot();
      std::ofstream(stem + "_after.dot") << g.to_dot(&plan->order);
    }
  }
  return *(plans_[key] = std::move(plan));
}

// What each node of a compiled plan waits for when nodes run concurrently: the schedule's
// edges (data, control, variable order) and the memory plan's (a buffer is reused only after
// every node that made or read its previous value has finished).
void Session::plan_dependencies(Plan& plan, const std::vector<std::vector<Node*>>& edges) const {
  const int n = plan.graph->num_nodes();
  std::vector<int> step(n, -1);
  for (size_t i = 0; i < plan.order.size(); ++i) step[plan.order[i]->id] = static_cast<int>(i);
  std::vector<std::set<int>> after(n);
  for (Node* node : plan.order)
    for (Node* s : edges[node->id]) after[node->id].insert(s->id);
  for (auto [reader, writer] : plan.memory.reuse_edges) after[reader].insert(writer);
  plan.successors.resize(n);
  plan.predecessors.assign(n, 0);
  plan.spawn.assign(n, false);
  for (Node* node : plan.order) {
    std::vector<int>& out = plan.successors[node->id];
    out.assign(after[node->id].begin(), after[node->id].end());
    std::sort(out.begin(), out.end(), [&](int a, int b) { return step[a] < step[b]; });
    for (int s : out) ++plan.predecessors[s];
    plan.spawn[node->id] = work_of(*node) >= options_.min_task_work;
  }
}

void Session::check_run_arguments(const Feeds& feeds, const std::vector<Output>& fetches,
                                  const std::vector<Node*>& targets) const {
  for (const auto& [out, value] : feeds) {
    if (!out.valid() || out.node->graph != &graph_) fail("Session::run: a feed key is not in this graph");
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
  for (const Output& f : fetches)
    if (!f.valid() || f.node->graph != &graph_) fail("Session::run: a fetch is not in this graph");
  for (const Node* t : targets)
    if (!t || t->graph != &graph_) fail("Session::run: a target is not in this graph");
}

std::vector<Tensor> Session::run(const Feeds& feeds, const std::vector<Output>& fetches,
                                 const std::vector<Node*>& targets) {
  check_run_arguments(feeds, fetches, targets);
  const Plan& plan = plan_for(feeds, fetches, targets);
  std::vector<Tensor> results;
  arena_->execute([&] { results = execute(plan, feeds); });
  state_.next_run();
  return results;
}

const compiler::PlanSummary& Session::plan_summary(const Feeds& feeds, const std::vector<Output>& fetches,
                                                   const std::vector<Node*>& targets) {
  check_run_arguments(feeds, fetches, targets);
  return plan_for(feeds, fetches, targets).summary;
}

void Session::run_node(const Plan& plan, Node* node, std::vector<std::vector<Tensor>>& values,
                       std::vector<std::atomic<int>>& uses, std::vector<double>* seconds) {
  const OpDef& op = *node->op;
  const bool compiled = plan.compiled != nullptr;
  KernelContext ctx{*node, {}, {}, {}, state_};
  for (const Output& in : node->inputs) ctx.inputs.push_back(values[in.node->id][in.index]);
  std::vector<DType> out_dtypes = node->output_dtypes;
  if (compiled) {
    ctx.output_shapes = node->output_shapes;  // concrete: specialised at compile time
  } else {  // the reference interpreter infers shapes from the real inputs every time
    std::vector<DType> dtypes;
    std::vector<Shape> shapes;
    for (const Tensor& t : ctx.inputs) {
      dtypes.push_back(t.dtype());
      shapes.push_back(t.shape());
    }
    ShapeContext shape_ctx = infer_shapes(*node, std::move(dtypes), std::move(shapes));
    ctx.output_shapes = std::move(shape_ctx.output_shapes);
    out_dtypes = std::move(shape_ctx.output_dtypes);
  }
  if (op.kernel_sets_outputs) {
    ctx.outputs.resize(node->num_outputs());
  } else {
    for (int i = 0; i < node->num_outputs(); ++i) {
      const int64_t at = compiled ? plan.memory.offset[node->id][i] : -1;
      if (at >= 0) {
        ctx.outputs.push_back(Tensor::view(std::shared_ptr<uint8_t>(plan.arena, plan.arena.get() + at),
                                           out_dtypes[i], ctx.output_shapes[i]));
      } else {
        ctx.outputs.emplace_back(out_dtypes[i], ctx.output_shapes[i]);
      }
    }
  }
  if (seconds) {
    const auto start = std::chrono::steady_clock::now();
    op.kernel(ctx);
    (*seconds)[node->id] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } else {
    op.kernel(ctx);
  }
  values[node->id] = std::move(ctx.outputs);
  for (const Output& in : node->inputs)
    if (uses[in.node->id].fetch_sub(1, std::memory_order_acq_rel) == 1) values[in.node->id].clear();
}

// Nodes start when all their predecessors are done. A finishing node continues with the
// first of the nodes it made ready (and with the small ones) on its own thread, and hands
// the large others to tasks that idle threads pick up.
void Session::run_concurrently(const Plan& plan, std::vector<std::vector<Tensor>>& values,
                               std::vector<std::atomic<int>>& uses, std::vector<double>* timing) {
  Graph& g = *plan.graph;
  const int n = g.num_nodes();
  std::vector<std::atomic<int>> waiting(n);
  for (int id = 0; id < n; ++id) waiting[id].store(plan.predecessors[id], std::memory_order_relaxed);
  tbb::task_group tasks;
  std::atomic<int> running{0}, most_running{1};
  std::function<void(std::vector<int>)> run_from = [&](std::vector<int> local) {
    while (!local.empty()) {
      const int id = local.back();
      local.pop_back();
      if (!plan.fed[id]) {
        const int now = running.fetch_add(1, std::memory_order_relaxed) + 1;
        int seen = most_running.load();
        while (now > seen && !most_running.compare_exchange_weak(seen, now)) {  // seen reloads on failure
        }
        run_node(plan, g.node(id), values, uses, timing);
        running.fetch_sub(1, std::memory_order_relaxed);
      }
      const size_t mark = local.size();
      bool continued = false;
      for (int s : plan.successors[id]) {
        if (waiting[s].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
        if (plan.spawn[s] && continued) {
          tasks.run([&run_from, s] { run_from({s}); });
        } else {
          local.push_back(s);
          continued = continued || plan.spawn[s];
        }
      }
      std::reverse(local.begin() + mark, local.end());  // the earliest in the order runs first
    }
  };
  std::vector<int> sources;  // variables, constants, feeds: nothing to wait for
  for (auto it = plan.order.rbegin(); it != plan.order.rend(); ++it)
    if (plan.predecessors[(*it)->id] == 0) sources.push_back((*it)->id);
  tasks.run([&run_from, &sources] { run_from(sources); });
  tasks.wait();
  most_concurrent_nodes_ = std::max(most_concurrent_nodes_, most_running.load());
}

std::vector<Tensor> Session::execute(const Plan& plan, const Feeds& feeds) {
  for (Node* p : plan.placeholders)  // before any work is done
    fail("Session::run: Placeholder '", p->name, "' needs a value: feed it (expected ",
         dtype_name(p->output_dtypes[0]), p->output_shapes[0], ")");
  Graph& g = *plan.graph;
  const int n = g.num_nodes();
  std::vector<std::vector<Tensor>> values(n);
  std::vector<std::atomic<int>> uses(n);
  for (int id = 0; id < n; ++id) uses[id].store(plan.uses[id], std::memory_order_relaxed);
  for (size_t i = 0; i < feeds.size(); ++i) values[plan.feeds[i]->id] = {feeds[i].second};
  std::vector<double> seconds(options_.profile ? n : 0, 0.0);
  std::vector<double>* timing = options_.profile ? &seconds : nullptr;

  if (plan.successors.empty() || num_threads_ == 1 || !options_.concurrent_nodes) {
    for (Node* node : plan.order)
      if (!plan.fed[node->id]) run_node(plan, node, values, uses, timing);
  } else {
    run_concurrently(plan, values, uses, timing);
  }

  if (options_.profile)
    for (Node* node : plan.order) {
      if (plan.fed[node->id]) continue;
      NodeTime& t = profile_[node->name];
      t.op = node->attrs.has("ops") ? node->op_name() + "(" + node->attrs.get<std::string>("ops") + ")" : node->op_name();
      t.seconds += seconds[node->id];
      ++t.calls;
    }
  std::vector<Tensor> results;
  for (const Output& f : plan.fetches) {
    const Tensor& t = values[f.node->id][f.index];
    // Ops that return storage they do not own (variables, constants, views of them) must
    // not hand that storage to the caller.
    results.push_back(f.node->op->kernel_sets_outputs || plan.fed[f.node->id] ? t.copy() : t);
  }
  return results;
}

std::string Session::profile_report() const {
  std::vector<std::pair<std::string, NodeTime>> rows(profile_.begin(), profile_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  double total = 0;
  for (const auto& r : rows) total += r.second.seconds;
  std::ostringstream s;
  s << "up to " << most_concurrent_nodes_ << " node" << (most_concurrent_nodes_ > 1 ? "s" : "")
    << " ran at once\n";
  s << std::left << std::setw(48) << "node" << std::setw(36) << "op" << std::right << std::setw(8) << "calls"
    << std::setw(12) << "total ms" << std::setw(8) << "%" << "\n";
  for (const auto& [name, t] : rows)
    s << std::left << std::setw(48) << name.substr(0, 47) << std::setw(36) << t.op.substr(0, 35) << std::right
      << std::setw(8) << t.calls << std::setw(12) << std::fixed << std::setprecision(3) << t.seconds * 1e3 << std::setw(8)
      << std::setprecision(1) << (total > 0 ? 100 * t.seconds / total : 0) << "\n";
  return s.str();
}

}  // namespace horn
