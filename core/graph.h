// The static computation graph: Nodes joined by Outputs (node + output index). Nodes are
// created through builder functions (ops/ops.h); each node's output dtypes and shapes are
// inferred when it is built, so shape errors surface at build time with the node's name.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/attr.h"

namespace horn {

class Graph;
struct Node;
struct OpDef;

struct Output {
  Node* node = nullptr;
  int index = 0;

  bool valid() const { return node != nullptr; }
  DType dtype() const;
  const Shape& shape() const;
  Graph& graph() const;
  std::string name() const;  // "dense_1/MatMul" or "split:1"
  bool operator==(const Output& o) const { return node == o.node && index == o.index; }
};

struct Node {
  int id = 0;               // position in the graph; also the creation order
  std::string name;         // unique in the graph
  const OpDef* op = nullptr;
  std::vector<Output> inputs;
  std::vector<Node*> control_inputs;  // must run before this node; carry no data
  AttrMap attrs;
  std::vector<DType> output_dtypes;
  std::vector<Shape> output_shapes;  // may hold unknown (-1) dimensions
  Graph* graph = nullptr;

  const std::string& op_name() const;
  Output output(int i = 0) { return Output{this, i}; }
  int num_outputs() const { return static_cast<int>(output_dtypes.size()); }
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Creates a node of a registered op, infers its outputs, and fails with a message naming
  // the op and the node when inputs or attributes are invalid.
  Node* add_node(const std::string& op, std::vector<Output> inputs, AttrMap attrs = {},
                 std::string_view name = {});
  Node* add_node(const OpDef& op, std::vector<Output> inputs, AttrMap attrs = {}, std::string_view name = {});
  void add_control_input(Node* node, Node* must_run_first);

  // "MatMul" -> "scope/MatMul", then "scope/MatMul_1", ... as TensorFlow names nodes.
  std::string unique_name(std::string_view base);
  // True when the name has been used (also by a scope prefix).
  bool has_name(const std::string& name) const;

  // RAII name scope: nodes built while it lives are named "<scope>/<name>".
  class NameScope {
   public:
    NameScope(Graph& g, std::string_view scope);
    ~NameScope();
    NameScope(const NameScope&) = delete;
    NameScope& operator=(const NameScope&) = delete;

   private:
    Graph& graph_;
    size_t previous_size_;
  };
  const std::string& current_scope() const { return scope_; }

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  Node* node(int id) const { return nodes_[id].get(); }
  Node* find_node(const std::string& name) const;  // nullptr when absent
  std::vector<Node*> variables() const;
  // The variables made trainable (ops::Variable's default), in creation order: TensorFlow 1's
  // trainable_variables collection.
  std::vector<Node*> trainable_variables() const;

  // Graphviz DOT text of the graph (or of `only` those nodes). Fused nodes are drawn as
  // clusters that list the ops they replaced.
  std::string to_dot(const std::vector<Node*>* only = nullptr) const;

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::string> names_;  // sorted, for unique_name
  std::string scope_;
};

}  // namespace horn
