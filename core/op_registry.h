// The op registry. Each op is declared once, in one place under ops/: its schema (arity,
// attributes), dtype and shape rules, traits, CPU kernel and gradient rule.
//
//   HORN_REGISTER_OP({.name = "Neg", .num_inputs = 1, .traits = kElementwise,
//                     .shape_fn = same_as_input, .kernel = ..., .gradient = ...});
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/tensor.h"

namespace horn {

class SessionState;

enum OpTraits : uint32_t {
  kNoTraits = 0,
  kElementwise = 1 << 0,     // output element i depends only on input elements i
  kBroadcasting = 1 << 1,    // NumPy broadcasting between inputs
  kReduction = 1 << 2,
  kStateful = 1 << 3,        // reads or writes session state, or draws random numbers
  kWritesVariable = 1 << 4,  // input 0 is a Variable whose value it updates in place
  kAliasesInput = 1 << 5,    // output 0 shares input 0's storage (a view)
  kSource = 1 << 6,          // Const, Placeholder, Variable
  kShapeOnly = 1 << 7,       // reads only its inputs' shapes (ZerosLike, Size): foldable once shapes are known
};

// What a shape function sees: the node (name, attrs) and its inputs' dtypes and shapes. At
// build time shapes may hold -1; at run time they are the real ones. It fills the outputs.
struct ShapeContext {
  const Node& node;
  std::vector<DType> input_dtypes;
  std::vector<Shape> input_shapes;
  std::vector<DType> output_dtypes;
  std::vector<Shape> output_shapes;

  const AttrMap& attrs() const { return node.attrs; }
  // Throws an Error prefixed with "<Op> '<node>': ".
  template <typename... Args>
  [[noreturn]] void error(const Args&... args) const;
  void set_output(DType dtype, Shape shape) {
    output_dtypes.push_back(dtype);
    output_shapes.push_back(std::move(shape));
  }
};

// What a kernel sees at run time. Outputs are allocated by the executor from the shape
// function's result, unless the op sets them itself (views, variables).
struct KernelContext {
  const Node& node;
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
  std::vector<Shape> output_shapes;
  SessionState& state;
  // This run's number (Session::run_counter when it started): random ops mix it into their
  // stream, so every run draws different numbers and concurrent runs never share one.
  uint64_t run_index = 0;

  const Tensor& input(int i) const { return inputs[i]; }
  Tensor& output(int i = 0) { return outputs[i]; }
  const AttrMap& attrs() const { return node.attrs; }
};

// Gradient rule: given the node and the gradient flowing into each of its outputs (an
// invalid Output where none flows), returns one gradient per input (invalid = none). It
// builds ordinary graph nodes with the builder functions, so gradients are differentiable.
using GradientFn =
    std::function<std::vector<Output>(Node& node, const std::vector<Output>& output_grads)>;

// The function of an elementwise op over `n` contiguous elements of same-length inputs.
// The op's own kernel and the fused loops of the compiler both run it, over blocks that
// start at the same multiples of 16, so fused and unfused results agree bit for bit.
struct ElementwiseFn {
  void (*f32)(const float* const* in, float* out, int64_t n) = nullptr;
  void (*f64)(const double* const* in, double* out, int64_t n) = nullptr;
  explicit operator bool() const { return f32 != nullptr; }
};

struct OpDef {
  std::string name;
  int num_inputs = 0;   // -1: any number (AddN)
  int num_outputs = 1;   // -1: as many as the shape function sets (fused ops)
  uint32_t traits = kNoTraits;
  std::function<void(ShapeContext&)> shape_fn;
  std::function<void(KernelContext&)> kernel;
  GradientFn gradient;               // empty: see `differentiable`
  bool differentiable = true;        // false: gradients stop here silently (ArgMax, Equal)
  bool kernel_sets_outputs = false;  // the kernel produces its outputs itself
  ElementwiseFn elementwise;         // set for elementwise float ops: fusable
  bool has(OpTraits t) const { return (traits & t) != 0; }
};

class OpRegistry {
 public:
  static OpRegistry& global();
  void add(OpDef def);
  const OpDef* find(const std::string& name) const;  // nullptr when unknown
  const OpDef& get(const std::string& name) const;   // throws when unknown
  // Ops by position in registration order, which is fixed once static initialisation is
  // over: compiled programs refer to ops by index so kernels need no lookup by name.
  int index_of(const std::string& name) const;      // throws when unknown
  const OpDef& at(int index) const { return *ops_[index]; }
  std::vector<const OpDef*> all() const;

 private:
  std::vector<std::unique_ptr<OpDef>> ops_;
};

struct OpRegistrar {
  explicit OpRegistrar(OpDef def) { OpRegistry::global().add(std::move(def)); }
};

#define HORN_CONCAT_INNER(a, b) a##b
#define HORN_CONCAT(a, b) HORN_CONCAT_INNER(a, b)
#define HORN_REGISTER_OP(...) \
  static ::horn::OpRegistrar HORN_CONCAT(horn_op_registrar_, __COUNTER__)(::horn::OpDef __VA_ARGS__)

// Runs a node's shape function on the given input dtypes/shapes.
ShapeContext infer_shapes(const Node& node, std::vector<DType> dtypes, std::vector<Shape> shapes);

template <typename... Args>
[[noreturn]] void ShapeContext::error(const Args&... args) const {
  fail(node.op_name(), " '", node.name, "': ", args...);
}

}  // namespace horn
