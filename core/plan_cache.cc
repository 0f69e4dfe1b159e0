#include "core/plan_cache.h"

namespace horn::runtime {

PlanKey plan_key(const Feeds& feeds, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                 bool by_shape, int graph_size) {
  PlanKey key;
  for (const Output& f : fetches) key.insert(key.end(), {f.node->id, f.index});
  key.push_back(-1);
  for (const Node* t : targets) key.push_back(t->id);
  key.push_back(-2);
  for (const auto& [out, value] : feeds) {
    key.push_back(out.node->id);
    if (by_shape) {
      key.push_back(static_cast<int64_t>(value.dtype()));
      key.insert(key.end(), value.shape().dims().begin(), value.shape().dims().end());
      key.push_back(-3);
    }
  }
  key.push_back(graph_size);
  return key;
}

std::shared_ptr<const Plan> PlanCache::find(const PlanKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  recent_.splice(recent_.begin(), recent_, it->second);
  return it->second->second;
}

std::shared_ptr<const Plan> PlanCache::insert(const PlanKey& key, std::shared_ptr<const Plan> plan) {
  std::shared_ptr<const Plan> dropped;  // released after the lock: a plan's destructor is not free
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second);
    return it->second->second;
  }
  recent_.emplace_front(key, std::move(plan));
  index_[key] = recent_.begin();
  if (recent_.size() > capacity_) {
    dropped = std::move(recent_.back().second);
    index_.erase(recent_.back().first);
    recent_.pop_back();
  }
  return recent_.front().second;
}

size_t PlanCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return recent_.size();
}

}  // namespace horn::runtime
