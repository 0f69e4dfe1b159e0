#include "core/compiler/memory_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/op_registry.h"

namespace horn::compiler {
namespace {

constexpr int64_t kAlign = 64;

int64_t aligned(int64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// First-fit allocator over [0, infinity) that remembers its high-water mark.
class Arena {
 public:
  int64_t take(int64_t bytes) {
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second < bytes) continue;
      const int64_t at = it->first, left = it->second - bytes;
      free_.erase(it);
      if (left > 0) free_[at + bytes] = left;
      return at;
    }
    // Grow: extend a free block that ends at the top, if any.
    int64_t at = top_;
    if (!free_.empty()) {
      auto last = std::prev(free_.end());
      if (last->first + last->second == top_) {
        at = last->first;
        free_.erase(last);
      }
    }
    top_ = std::max(top_, at + bytes);
    return at;
  }
  void give(int64_t at, int64_t bytes) {
    auto [it, ok] = free_.emplace(at, bytes);
    auto next = std::next(it);
    if (next != free_.end() && at + bytes == next->first) {  // merge with the following block
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {  // and with the preceding one
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free_.erase(it);
      }
    }
  }
  int64_t top() const { return top_; }

 private:
  std::map<int64_t, int64_t> free_;  // offset -> size
  int64_t top_ = 0;
};

}  // namespace

MemoryPlan plan_memory(const Graph& g, const std::vector<Node*>& order, const std::vector<Output>& fetches,
                       const std::vector<bool>& fed) {
  const int n = g.num_nodes();
  MemoryPlan plan;
  plan.offset.resize(n);
  // The buffer each output lives in: its own, or (for views) its input's.
  std::map<std::pair<int, int>, std::pair<int, int>> root;
  auto root_of = [&](const Output& o) {
    auto it = root.find({o.node->id, o.index});
    return it == root.end() ? std::make_pair(o.node->id, o.index) : it->second;
  };
  std::vector<int> step(n, -1);
  for (size_t i = 0; i < order.size(); ++i) step[order[i]->id] = static_cast<int>(i);
  // An output that may be a view of an input (Reshape, Assign, a no-op ReduceToShapeLike)
  // lives in that input's buffer: reading it reads the input.
  for (Node* node : order)
    if (const int k = viewed_input(*node); k >= 0) root[{node->id, 0}] = root_of(node->inputs[k]);

  // Last step at which each buffer is read; buffers that are fetched (or viewed by a fetch)
  // are returned to the caller and stay out of the arena.
  std::map<std::pair<int, int>, int> last_use;
  std::map<std::pair<int, int>, bool> escapes;
  std::map<std::pair<int, int>, std::vector<int>> touched_by;  // producer and readers
  for (Node* node : order)
    for (const Output& in : node->inputs) {
      auto r = root_of(in);
      last_use[r] = std::max(last_use[r], step[node->id]);
      touched_by[r].push_back(node->id);
    }
  // Bytes whose values died, and who touched them: a buffer placed over them must wait for
  // all of those nodes when nodes run concurrently.
  struct Released {
    int64_t at, bytes;
    std::pair<int, int> root;
  };
  std::vector<Released> released;
  std::set<std::pair<int, int>> edges;
  auto order_after = [&](const std::pair<int, int>& root, int writer) {
    if (root.first != writer) edges.insert({root.first, writer});
    for (int reader : touched_by[root])
      if (reader != writer) edges.insert({reader, writer});
  };
  auto place = [&](int64_t at, int64_t bytes, int writer) {
    for (const Released& r : released)
      if (r.at < at + bytes && at < r.at + r.bytes) order_after(r.root, writer);
  };
  for (const Output& f : fetches) escapes[root_of(f)] = true;

  Arena arena;
  std::map<std::pair<int, int>, std::pair<int64_t, int64_t>> placed;  // root -> (offset, bytes)
  for (Node* node : order) {
    const int s = step[node->id];
    plan.offset[node->id].assign(node->num_outputs(), -1);
    const bool planned = !fed[node->id] && !node->op->kernel_sets_outputs;
    for (int o = 0; planned && o < node->num_outputs(); ++o) {
      const std::pair<int, int> key{node->id, o};
      if (escapes[key] || !node->output_shapes[o].is_fully_known()) continue;
      const int64_t bytes = aligned(node->output_shapes[o].num_elements() * dtype_size(node->output_dtypes[o]));
      if (bytes == 0) continue;
      plan.unshared_bytes += bytes;
      int64_t at = -1;
      if (node->op->has(kInPlace)) {
        for (const Output& in : node->inputs) {  // take over an input that dies here
          auto r = root_of(in);
          auto p = placed.find(r);
          if (p == placed.end() || p->second.second != bytes || last_use[r] != s) continue;
          // Only an operand of exactly the output's shape: a broadcast one is read again
          // for many outputs (and its size may round up to the same number of bytes).
          if (in.dtype() != node->output_dtypes[o] || in.shape() != node->output_shapes[o]) continue;
          at = p->second.first;
          order_after(r, node->id);
          place(at, bytes, node->id);
          placed.erase(p);
          ++plan.in_place;
          break;
        }
      }
      if (at < 0) {
        at = arena.take(bytes);
        place(at, bytes, node->id);
      }
      placed[key] = {at, bytes};
      plan.offset[node->id][o] = at;
    }
    // Free what dies at this step (buffers never read are freed right after being written).
    for (auto it = placed.begin(); it != placed.end();) {
      auto lu = last_use.find(it->first);
      const int dies = lu == last_use.end() ? step[it->first.first] : lu->second;
      if (dies <= s) {
        arena.give(it->second.first, it->second.second);
        released.push_back({it->second.first, it->second.second, it->first});
        it = placed.erase(it);
      } else {
        ++it;
      }
    }
  }
  plan.arena_bytes = arena.top();
  plan.reuse_edges.assign(edges.begin(), edges.end());
  return plan;
}

}  // namespace horn::compiler
