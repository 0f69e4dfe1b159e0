// The Session's plans by (fetches, targets, feeds and their shapes), least recently used
// dropped first (internal to the Session). Safe to use from any number of threads; a plan
// dropped while runs still use it lives until they finish.
#pragma once
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/plan.h"

namespace horn::runtime {

using PlanKey = std::vector<int64_t>;

// Compiled plans are specialised to the fed shapes and dtypes (`by_shape`); a graph that
// grew since (`graph_size`) may need a new plan.
PlanKey plan_key(const Feeds& feeds, const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                 bool by_shape, int graph_size);

class PlanCache {
 public:
  explicit PlanCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  // The plan for `key`, or null; a hit makes it the most recently used.
  std::shared_ptr<const Plan> find(const PlanKey& key);
  // Adds `plan` and returns it, or returns the plan another thread added first for the key.
  std::shared_ptr<const Plan> insert(const PlanKey& key, std::shared_ptr<const Plan> plan);
  size_t size() const;

 private:
  using Entry = std::pair<PlanKey, std::shared_ptr<const Plan>>;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> recent_;  // most recently used first
  std::map<PlanKey, std::list<Entry>::iterator> index_;
};

}  // namespace horn::runtime
