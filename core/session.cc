#include "core/session.h"

#include <malloc.h>

#include <algorithm>
#include <mutex>
#include <queue>
#include <thread>

#include <oneapi/tbb/task_arena.h>

#include "core/op_registry.h"

namespace horn {

Tensor& SessionState::variable(const Node& var) {
  auto it = variables_.find(var.id);
  if (it == variables_.end())
    fail("Variable '", var.name, "' is read before it was initialised; call ",
         "Session::initialize_variables() or assign it first");
  return it->second;
}

// A cached execution order for one (fetches, targets, fed nodes) key.
struct Session::Plan {
  std::vector<Node*> order;            // topological, ties broken by node id
  std::vector<int> remaining_uses;     // per node id: consumers in this plan (to free early)
  std::vector<bool> fed;               // per node id
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

}  // namespace

Session::Session(Graph& graph, SessionOptions options)
    : graph_(graph),
      num_threads_(options.num_threads > 0
                       ? options.num_threads
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
  if (var->op_name() != "Variable") fail("set_variable_value: '", var->name, "' is not a Variable");
  const Shape& declared = var->output_shapes[0];
  if (value.dtype() != var->output_dtypes[0] || !declared.is_compatible_with(value.shape()))
    fail("Variable '", var->name, "': expected ", dtype_name(var->output_dtypes[0]), declared,
         ", got ", dtype_name(value.dtype()), value.shape());
  state_.set_variable(*var, value.copy());
}

namespace {

// Nodes reached by following inputs backwards, not crossing fed nodes.
std::vector<bool> needed_nodes(const Graph& g, const std::vector<Node*>& roots,
                               const std::vector<bool>& fed) {
  std::vector<bool> needed(g.num_nodes(), false);
  std::vector<Node*> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (needed[n->id]) continue;
    needed[n->id] = true;
    if (fed[n->id]) continue;
    for (const Output& in : n->inputs) stack.push_back(in.node);
    for (Node* c : n->control_inputs) stack.push_back(c);
  }
  return needed;
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
void collect_readers(Node* source, const std::vector<std::vector<Node*>>& consumers,
                     std::vector<Node*>* readers) {
  for (Node* c : consumers[source->id]) {
    readers->push_back(c);
    if (c->op->has(kAliasesInput)) collect_readers(c, consumers, readers);
  }
}

}  // namespace

const Session::Plan& Session::plan_for(const Feeds& feeds, const std::vector<Output>& fetches,
                                       const std::vector<Node*>& targets) {
  std::vector<int> key;
  for (const Output& f : fetches) key.push_back(f.node->id);
  key.push_back(-1);
  for (const Node* t : targets) key.push_back(t->id);
  key.push_back(-2);
  for (const auto& [out, value] : feeds) key.push_back(out.node->id);
  key.push_back(graph_.num_nodes());  // a graph that grew may need a new plan
  if (auto it = plans_.find(key); it != plans_.end()) return *it->second;

  const int n = graph_.num_nodes();
  auto plan = std::make_unique<Plan>();
  plan->fed.assign(n, false);
  for (const auto& [out, value] : feeds) plan->fed[out.node->id] = true;
  std::vector<Node*> roots = targets;
  for (const Output& f : fetches) roots.push_back(f.node);
  const std::vector<bool> needed = needed_nodes(graph_, roots, plan->fed);

  // Edges: data and control inputs, plus write-after-read edges for variables.
  std::vector<std::vector<Node*>> consumers(n);
  std::vector<std::vector<Node*>> successors(n);
  std::vector<int> indegree(n, 0);
  auto add_edge = [&](Node* from, Node* to) {
    successors[from->id].push_back(to);
    ++indegree[to->id];
  };
  for (int id = 0; id < n; ++id) {
    Node* node = graph_.node(id);
    if (!needed[id] || plan->fed[id]) continue;
    for (const Output& in : node->inputs) {
      consumers[in.node->id].push_back(node);
      add_edge(in.node, node);
    }
    for (Node* c : node->control_inputs) add_edge(c, node);
  }
  for (int id = 0; id < n; ++id) {
    Node* writer = graph_.node(id);
    if (!needed[id] || plan->fed[id] || !writer->op->has(kWritesVariable)) continue;
    Node* var = writer->inputs[0].node;
    std::vector<Node*> readers;
    collect_readers(var, consumers, &readers);
    for (Node* r : readers)
      if (r != writer && !depends_on(r, writer, needed)) add_edge(r, writer);
  }

  plan->remaining_uses.assign(n, 0);
  for (const Output& f : fetches) ++plan->remaining_uses[f.node->id];  // fetched: kept to the end
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int id = 0; id < n; ++id)
    if (needed[id] && indegree[id] == 0) ready.push(id);
  while (!ready.empty()) {
    Node* node = graph_.node(ready.top());
    ready.pop();
    plan->order.push_back(node);
    if (!plan->fed[node->id])
      for (const Output& in : node->inputs) ++plan->remaining_uses[in.node->id];
    for (Node* s : successors[node->id])
      if (--indegree[s->id] == 0) ready.push(s->id);
  }
  const size_t expected = std::count(needed.begin(), needed.end(), true);
  if (plan->order.size() != expected)
    fail("Session::run: the graph has a cycle among the nodes needed for this run");
  return *(plans_[key] = std::move(plan));
}

std::vector<Tensor> Session::run(const Feeds& feeds, const std::vector<Output>& fetches,
                                 const std::vector<Node*>& targets) {
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
      fail("Session::run: '", out.name(), "' expects shape ", declared, " but was fed shape ",
           value.shape());
  }
  for (const Output& f : fetches)
    if (!f.valid() || f.node->graph != &graph_) fail("Session::run: a fetch is not in this graph");
  for (const Node* t : targets)
    if (!t || t->graph != &graph_) fail("Session::run: a target is not in this graph");

  const Plan& plan = plan_for(feeds, fetches, targets);
  std::vector<Tensor> results;
  arena_->execute([&] { results = execute(plan, feeds, fetches); });
  state_.next_run();
  return results;
}

std::vector<Tensor> Session::execute(const Plan& plan, const Feeds& feeds,
                                     const std::vector<Output>& fetches) {
  std::vector<std::vector<Tensor>> values(graph_.num_nodes());
  std::vector<int> uses = plan.remaining_uses;
  for (const auto& [out, value] : feeds) values[out.node->id] = {value};

  for (Node* node : plan.order) {
    if (plan.fed[node->id]) continue;
    const OpDef& op = *node->op;
    KernelContext ctx{*node, {}, {}, {}, state_};
    std::vector<DType> dtypes;
    std::vector<Shape> shapes;
    for (const Output& in : node->inputs) {
      const Tensor& t = values[in.node->id][in.index];
      if (node->op_name() == "Placeholder") break;
      ctx.inputs.push_back(t);
      dtypes.push_back(t.dtype());
      shapes.push_back(t.shape());
    }
    if (op.name == "Placeholder")
      fail("Session::run: Placeholder '", node->name, "' needs a value: feed it (expected ",
           dtype_name(node->output_dtypes[0]), node->output_shapes[0], ")");
    ShapeContext shape_ctx = infer_shapes(*node, std::move(dtypes), std::move(shapes));
    ctx.output_shapes = std::move(shape_ctx.output_shapes);
    if (!op.kernel_sets_outputs) {
      for (int i = 0; i < op.num_outputs; ++i)
        ctx.outputs.emplace_back(shape_ctx.output_dtypes[i], ctx.output_shapes[i]);
    } else {
      ctx.outputs.resize(op.num_outputs);
    }
    op.kernel(ctx);
    values[node->id] = std::move(ctx.outputs);
    // Free inputs nobody else in this run still needs.
    for (const Output& in : node->inputs)
      if (--uses[in.node->id] == 0) values[in.node->id].clear();
  }

  std::vector<Tensor> results;
  for (const Output& f : fetches) results.push_back(values[f.node->id][f.index]);
  return results;
}

}  // namespace horn
