// Memory planning for one execution order: every intermediate buffer gets an offset in one
// arena, reused once its value is dead. An elementwise op may write over an input of the same
// size that dies at that op (in place). Outside the arena: fed and fetched tensors (and the
// views of them), variables and constants, and outputs that kernels produce themselves.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/graph.h"

namespace horn::compiler {

struct MemoryPlan {
  std::vector<std::vector<int64_t>> offset;  // per node id, per output: arena offset or -1
  int64_t arena_bytes = 0;                   // peak: the arena's size
  int64_t unshared_bytes = 0;                // all planned buffers with no reuse at all
  int in_place = 0;                          // outputs written over a dying input
  // (reader, writer) node ids: `writer` puts a buffer where a value that `reader` reads (or
  // produces) lived. A concurrent executor must finish `reader` before starting `writer`;
  // the order given to plan_memory already does.
  std::vector<std::pair<int, int>> reuse_edges;
};

MemoryPlan plan_memory(const Graph& g, const std::vector<Node*>& order, const std::vector<Output>& fetches,
                       const std::vector<bool>& fed);

}  // namespace horn::compiler
