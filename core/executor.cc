#include "core/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>

#include "core/numeric_check.h"
#include "core/op_registry.h"
#include "core/session.h"
#include "core/tsan_handoff.h"

#include <oneapi/tbb/task_group.h>

namespace horn::runtime {
namespace {

// One run's working state: node values and how many readers each has left.
struct Values {
  std::vector<std::vector<Tensor>> of;  // per node id, per output
  std::vector<std::atomic<int>> uses;   // per node id
};

// Runs one node: its kernel on its inputs' values, into its planned buffers; frees the
// inputs it was the last reader of. `seconds` (per node id) gets its time if not null.
void run_node(const Plan& plan, const RunInputs& run, Node* node, Values& values,
              std::vector<double>* seconds) {
  const OpDef& op = *node->op;
  const bool compiled = plan.compiled != nullptr;
  KernelContext ctx{*node, {}, {}, {}, run.state, run.run_index};
  for (const Output& in : node->inputs) ctx.inputs.push_back(values.of[in.node->id][in.index]);
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
        ctx.outputs.push_back(Tensor::view(std::shared_ptr<uint8_t>(run.arena, run.arena.get() + at),
                                           out_dtypes[i], ctx.output_shapes[i]));
      } else {
        ctx.outputs.emplace_back(out_dtypes[i], ctx.output_shapes[i]);
      }
    }
  }
  // Its writes make the variables' bfloat16 copies stale; a fused update that keeps a copy
  // marks it current again once it has written both.
  for (int i : written_variable_inputs(*node)) run.state.invalidate_bfloat16_copy(*node->inputs[i].node);
  if (seconds) {
    const auto start = std::chrono::steady_clock::now();
    op.kernel(ctx);
    (*seconds)[node->id] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } else {
    op.kernel(ctx);
  }
  // Sources are not computed by the run (a Const may hold an infinity on purpose, a mask).
  if (run.check_numerics && !op.is_source()) check_numerics(*node, ctx.outputs, run.run_index);
  values.of[node->id] = std::move(ctx.outputs);
  for (const Output& in : node->inputs)
    if (values.uses[in.node->id].fetch_sub(1, std::memory_order_acq_rel) == 1) values.of[in.node->id].clear();
}

// Nodes start when all their predecessors are done. A finishing node continues with the
// first of the nodes it made ready (and with the small ones) on its own thread, and hands
// the large others to tasks that idle threads pick up. Returns the most nodes that ran at
// the same time.
int run_concurrently(const Plan& plan, const RunInputs& run, Values& values, std::vector<double>* timing) {
  Graph& g = *plan.graph;
  const Dependencies& deps = plan.dependencies;
  const int n = g.num_nodes();
  std::vector<std::atomic<int>> waiting(n);
  for (int id = 0; id < n; ++id) waiting[id].store(deps.predecessors[id], std::memory_order_relaxed);
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
        run_node(plan, run, g.node(id), values, timing);
        running.fetch_sub(1, std::memory_order_relaxed);
      }
      const size_t mark = local.size();
      bool continued = false;
      for (int s : deps.successors[id]) {
        if (waiting[s].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
        if (deps.spawn[s] && continued) {
          tasks.run(hand_off([&run_from, s] { run_from({s}); }, &tasks));
        } else {
          local.push_back(s);
          continued = continued || deps.spawn[s];
        }
      }
      std::reverse(local.begin() + mark, local.end());  // the earliest in the order runs first
    }
  };
  std::vector<int> sources;  // variables, constants, feeds: nothing to wait for
  for (auto it = plan.order.rbegin(); it != plan.order.rend(); ++it)
    if (deps.predecessors[(*it)->id] == 0) sources.push_back((*it)->id);
  tasks.run(hand_off([&run_from, &sources] { run_from(sources); }, &tasks));
  then_acquire(&tasks, [&] { tasks.wait(); });  // ThreadSanitizer builds: see what the tasks did
  return most_running.load();
}

}  // namespace

RunOutputs execute(const Plan& plan, const Feeds& feeds, const RunInputs& run) {
  Graph& g = *plan.graph;
  const int n = g.num_nodes();
  Values values{std::vector<std::vector<Tensor>>(n), std::vector<std::atomic<int>>(n)};
  for (int id = 0; id < n; ++id) values.uses[id].store(plan.uses[id], std::memory_order_relaxed);
  for (size_t i = 0; i < feeds.size(); ++i) values.of[plan.feeds[i]->id] = {feeds[i].second};
  RunOutputs out;
  if (run.profile) out.seconds.assign(n, 0.0);
  std::vector<double>* timing = run.profile ? &out.seconds : nullptr;

  if (plan.dependencies.successors.empty() || !run.concurrent) {
    for (Node* node : plan.order)
      if (!plan.fed[node->id]) run_node(plan, run, node, values, timing);
  } else {
    out.most_concurrent = run_concurrently(plan, run, values, timing);
  }

  for (const Output& f : plan.fetches) {
    const Tensor& t = values.of[f.node->id][f.index];
    // Ops that return storage they do not own (variables, constants, views of them) must
    // not hand that storage to the caller.
    out.fetched.push_back(f.node->op->kernel_sets_outputs || plan.fed[f.node->id] ? t.copy() : t);
  }
  return out;
}

}  // namespace horn::runtime
