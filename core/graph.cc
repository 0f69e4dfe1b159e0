#include "core/graph.h"

#include <algorithm>
#include <sstream>

#include "core/op_registry.h"

namespace horn {

DType Output::dtype() const { return node->output_dtypes[index]; }
const Shape& Output::shape() const { return node->output_shapes[index]; }
Graph& Output::graph() const { return *node->graph; }
std::string Output::name() const {
  return index == 0 ? node->name : node->name + ":" + std::to_string(index);
}

const std::string& Node::op_name() const { return op->name; }

Node* Graph::add_node(const std::string& op_name, std::vector<Output> inputs, AttrMap attrs,
                      std::string_view name) {
  return add_node(OpRegistry::global().get(op_name), std::move(inputs), std::move(attrs), name);
}

Node* Graph::add_node(const OpDef& op, std::vector<Output> inputs, AttrMap attrs, std::string_view name) {
  const std::string& op_name = op.name;
  const std::string node_name = unique_name(name.empty() ? std::string_view(op_name) : name);
  if (op.num_inputs >= 0 && static_cast<int>(inputs.size()) != op.num_inputs)
    fail(op_name, " '", node_name, "': expects ", op.num_inputs, " inputs, got ", inputs.size());
  std::vector<DType> dtypes;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].valid()) fail(op_name, " '", node_name, "': input ", i, " is not set");
    if (inputs[i].node->graph != this)
      fail(op_name, " '", node_name, "': input ", i, " ('", inputs[i].name(),
           "') belongs to another graph");
    dtypes.push_back(inputs[i].dtype());
    shapes.push_back(inputs[i].shape());
  }
  auto node = std::make_unique<Node>();
  node->id = num_nodes();
  node->name = node_name;
  node->op = &op;
  node->inputs = std::move(inputs);
  node->attrs = std::move(attrs);
  node->graph = this;
  ShapeContext ctx = infer_shapes(*node, std::move(dtypes), std::move(shapes));
  node->output_dtypes = std::move(ctx.output_dtypes);
  node->output_shapes = std::move(ctx.output_shapes);
  names_.insert(std::lower_bound(names_.begin(), names_.end(), node_name), node_name);
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

void Graph::add_control_input(Node* node, Node* must_run_first) {
  HORN_ASSERT(node->graph == this && must_run_first->graph == this);
  node->control_inputs.push_back(must_run_first);
}

bool Graph::has_name(const std::string& name) const {
  return std::binary_search(names_.begin(), names_.end(), name);
}

std::string Graph::unique_name(std::string_view base) {
  const std::string full = scope_.empty() ? std::string(base) : scope_ + "/" + std::string(base);
  if (!has_name(full)) return full;
  for (int i = 1;; ++i) {
    std::string candidate = full + "_" + std::to_string(i);
    if (!has_name(candidate)) return candidate;
  }
}

Graph::NameScope::NameScope(Graph& g, std::string_view scope)
    : graph_(g), previous_size_(g.scope_.size()) {
  if (!g.scope_.empty()) g.scope_ += "/";
  g.scope_ += scope;
}

Graph::NameScope::~NameScope() { graph_.scope_.resize(previous_size_); }

Node* Graph::find_node(const std::string& name) const {
  for (const auto& n : nodes_)
    if (n->name == name) return n.get();
  return nullptr;
}

std::vector<Node*> Graph::variables() const {
  std::vector<Node*> out;
  for (const auto& n : nodes_)
    if (n->op->is(OpRole::kVariable)) out.push_back(n.get());
  return out;
}

std::vector<Node*> Graph::trainable_variables() const {
  std::vector<Node*> out;
  for (Node* n : variables())
    if (n->attrs.get_or("trainable", true)) out.push_back(n);
  return out;
}

std::string Graph::to_dot(const std::vector<Node*>* only) const {
  std::vector<bool> shown(nodes_.size(), only == nullptr);
  if (only)
    for (const Node* n : *only) shown[n->id] = true;
  std::ostringstream os;
  os << "digraph horn {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n";
  for (const auto& n : nodes_) {
    if (!shown[n->id]) continue;
    const bool fused = n->attrs.has("ops");  // a node the compiler fused: drawn as a cluster
    if (fused) {
      std::string ops = n->attrs.get<std::string>("ops");
      for (char& c : ops)
        if (c == ',') c = ' ';
      os << "  subgraph cluster_" << n->id << " {\n    label=\"fused: " << ops
         << "\";\n    style=filled;\n    fillcolor=\"#fff4e0\";\n  ";
    }
    os << "  n" << n->id << " [label=\"" << n->name << "\\n" << n->op_name();
    for (int i = 0; i < n->num_outputs(); ++i) os << "\\n" << n->output_shapes[i].to_string();
    os << "\"";
    if (n->op->is_source()) os << ", style=filled, fillcolor=\"#e8f0fe\"";
    os << "];\n";
    if (fused) os << "  }\n";
    for (const Output& in : n->inputs)
      if (shown[in.node->id]) os << "  n" << in.node->id << " -> n" << n->id << ";\n";
    for (const Node* c : n->control_inputs)
      if (shown[c->id]) os << "  n" << c->id << " -> n" << n->id << " [style=dashed];\n";
  }
  os << "}\n";
  return os.str();
}

}  // namespace horn
