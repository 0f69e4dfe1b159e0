#include "core/profile.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <utility>

namespace horn::runtime {
namespace {

// "FusedElementwise(Add,Sigmoid)" for a fused node, the op's name otherwise.
std::string op_label(const Node& node) {
  if (!node.attrs.has("ops")) return node.op_name();
  return node.op_name() + "(" + node.attrs.get<std::string>("ops") + ")";
}

}  // namespace

void Profile::record(const Plan& plan, const std::vector<double>& seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Node* node : plan.order) {
    if (plan.fed[node->id]) continue;
    NodeTime& t = nodes_[node->name];
    t.op = op_label(*node);
    t.seconds += seconds[node->id];
    ++t.calls;
  }
}

void Profile::note_concurrency(int nodes) {
  int seen = most_concurrent_.load(std::memory_order_relaxed);
  while (nodes > seen && !most_concurrent_.compare_exchange_weak(seen, nodes)) {  // seen reloads on failure
  }
}

std::string Profile::report() const {
  std::vector<std::pair<std::string, NodeTime>> rows;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    rows.assign(nodes_.begin(), nodes_.end());
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  double total = 0;
  for (const auto& r : rows) total += r.second.seconds;
  const int most = most_concurrent_nodes();
  std::ostringstream s;
  s << "up to " << most << " node" << (most > 1 ? "s" : "") << " ran at once\n";
  s << std::left << std::setw(48) << "node" << std::setw(36) << "op" << std::right << std::setw(8) << "calls"
    << std::setw(12) << "total ms" << std::setw(8) << "%" << "\n";
  for (const auto& [name, t] : rows)
    s << std::left << std::setw(48) << name.substr(0, 47) << std::setw(36) << t.op.substr(0, 35) << std::right
      << std::setw(8) << t.calls << std::setw(12) << std::fixed << std::setprecision(3) << t.seconds * 1e3 << std::setw(8)
      << std::setprecision(1) << (total > 0 ? 100 * t.seconds / total : 0) << "\n";
  return s.str();
}

}  // namespace horn::runtime
