// Graph reachability, written once for the Session, the compiler and autodiff.
//
//   std::vector<bool> needed = ancestors(g, roots, Edges::kDataAndControl,
//                                        [&](const Node& n) { return fed[n.id]; });
//
// The result is indexed by node id. Walks follow edges, never id order: compiled graphs are
// not id-ordered (passes make old nodes consume newer ones).
#pragma once
#include <functional>
#include <vector>

#include "core/graph.h"

namespace horn {

enum class Edges {
  kData,            // node inputs only (what autodiff differentiates through)
  kDataAndControl,  // inputs and control inputs (what must run before a node)
};

// A node for which `stop` is true is reached but not walked through (a fed node's inputs
// are not needed). An empty `stop` walks everything.
using StopAt = std::function<bool(const Node&)>;

// The roots and every node they depend on (walking inputs).
std::vector<bool> ancestors(const Graph& g, const std::vector<Node*>& roots, Edges edges,
                            const StopAt& stop = {});

// The roots and every node that depends on them (walking consumers).
std::vector<bool> descendants(const Graph& g, const std::vector<Node*>& roots, Edges edges,
                              const StopAt& stop = {});

// The nodes that read `source`, looking through views of it (ops that declare
// OpDef::view_of_input: a reader of a view reads the viewed input). consumers[id]: the live
// nodes that take node id as an input. `views`, when given, gets the view nodes passed.
void readers_through_views(const Node& source, const std::vector<std::vector<Node*>>& consumers,
                           std::vector<Node*>* readers, std::vector<Node*>* views = nullptr);

// The nodes of some outputs, for roots given as outputs.
std::vector<Node*> nodes_of(const std::vector<Output>& outputs);

}  // namespace horn
