#include "core/plan.h"

#include <cstdlib>
#include <fstream>

#include "core/memory_tuning.h"
#include "core/op_registry.h"
#include "core/session.h"

namespace horn::runtime {
namespace {

std::string dump_dir(const SessionOptions& o) {
  if (!o.dump_dot_dir.empty()) return o.dump_dot_dir;
  const char* env = std::getenv("HORN_DUMP_DOT");
  return env ? env : "";
}

bool is_placeholder(const Node& n) { return n.op->is(OpRole::kPlaceholder); }

}  // namespace

std::shared_ptr<uint8_t> ArenaPool::take() {
  if (bytes_ == 0) return nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::shared_ptr<uint8_t> arena = std::move(idle_.back());
      idle_.pop_back();
      return arena;
    }
  }
  auto* base = static_cast<uint8_t*>(allocate_buffer_memory(bytes_));
  if (!base) fail("Session: out of memory for a ", bytes_, "-byte arena");
  return std::shared_ptr<uint8_t>(base, [](uint8_t* p) { std::free(p); });
}

void ArenaPool::give(std::shared_ptr<uint8_t> arena) {
  if (!arena || arena.use_count() != 1) return;  // a tensor still views it: it frees it last
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(arena));
}

std::shared_ptr<const Plan> make_plan(Graph& graph, const Feeds& feeds, const std::vector<Output>& fetches,
                                      const std::vector<Node*>& targets, const SessionOptions& options,
                                      int max_concurrent_runs, int number) {
  auto plan = std::make_shared<Plan>();
  if (options.optimize) {
    std::vector<compiler::FeedSpec> specs;
    for (const auto& [out, value] : feeds) specs.push_back({out, value.dtype(), value.shape()});
    compiler::Compilation c = compiler::compile(graph, fetches, targets, specs);
    plan->compiled = std::make_unique<compiler::CompiledGraph>(std::move(c.graph));
    plan->summary = std::move(c.summary);
    plan->graph = plan->compiled->graph.get();
    plan->fetches = plan->compiled->fetches;
    plan->feeds = plan->compiled->feeds;
  } else {
    plan->graph = &graph;
    plan->fetches = fetches;
    for (const auto& [out, value] : feeds) plan->feeds.push_back(out.node);
  }
  Graph& g = *plan->graph;
  plan->fed.assign(g.num_nodes(), false);
  for (Node* f : plan->feeds) plan->fed[f->id] = true;
  std::vector<Node*> roots = options.optimize ? plan->compiled->targets : targets;
  for (const Output& f : plan->fetches) roots.push_back(f.node);
  Schedule s = schedule(g, roots, plan->fed);
  plan->order = s.order;
  for (Node* node : plan->order) {
    if (is_placeholder(*node) && !plan->fed[node->id]) plan->placeholders.push_back(node);
    if (!plan->fed[node->id] && node->op->has(kWritesVariable)) plan->writes_variables = true;
  }

  plan->uses.assign(g.num_nodes(), 0);
  for (const Output& f : plan->fetches) ++plan->uses[f.node->id];  // fetched: kept to the end
  for (Node* node : plan->order)
    if (!plan->fed[node->id])
      for (const Output& in : node->inputs) ++plan->uses[in.node->id];
  if (options.optimize) {
    plan->memory = compiler::plan_memory(g, plan->order, plan->fetches, plan->fed);
    plan->summary.arena_bytes = plan->memory.arena_bytes;
    plan->summary.unshared_bytes = plan->memory.unshared_bytes;
    plan->summary.in_place = plan->memory.in_place;
    plan->dependencies = dependencies(g, s, plan->memory.reuse_edges, options.min_task_work);
    if (const std::string dir = dump_dir(options); !dir.empty()) {
      const std::string stem = dir + "/plan_" + std::to_string(number);
      std::ofstream(stem + "_before.dot") << graph.to_dot();
      std::ofstream(stem + "_after.dot") << g.to_dot(&plan->order);
    }
  }
  plan->arenas =
      std::make_unique<ArenaPool>(plan->memory.arena_bytes, static_cast<size_t>(max_concurrent_runs));
  return plan;
}

}  // namespace horn::runtime
