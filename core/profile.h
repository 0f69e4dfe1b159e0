// Per-node timing over all runs of a Session, and the report (internal to the Session).
// Runs on many threads record into one Profile; each record takes its lock once.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/plan.h"

namespace horn::runtime {

class Profile {
 public:
  // Adds one run's time per node (`seconds`, per node id of the plan's graph).
  void record(const Plan& plan, const std::vector<double>& seconds);
  // Counted with or without timing: the most nodes of one run that ran at the same time.
  void note_concurrency(int nodes);
  int most_concurrent_nodes() const { return most_concurrent_.load(std::memory_order_relaxed); }
  // Total time per node, slowest first.
  std::string report() const;

 private:
  struct NodeTime {
    std::string op;
    double seconds = 0;
    int64_t calls = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, NodeTime> nodes_;  // by node name: plans share names
  std::atomic<int> most_concurrent_{1};
};

}  // namespace horn::runtime
