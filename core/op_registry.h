// The op registry. Each op is declared once, in one place under ops/: its schema (arity,
// attributes), dtype and shape rules, traits, CPU kernel and gradient rule.
//
//   HORN_REGISTER_OP({.name = "Neg", .num_inputs = 1, .traits = kElementwise,
//                     .shape_fn = same_as_input, .kernel = ..., .gradient = ...});
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/tensor.h"

namespace horn {

class SessionState;

// What the compiler, the memory planner and the scheduler need to know about an op. They
// ask these, never an op's name: a new op gets fusion, in-place reuse and correct ordering
// by declaring them in its own file.
enum OpTraits : uint32_t {
  kNoTraits = 0,
  kElementwise = 1 << 0,     // output element i depends only on input elements i
  kBroadcasting = 1 << 1,    // NumPy broadcasting between inputs
  kReduction = 1 << 2,
  kStateful = 1 << 3,        // reads or writes session state, or draws random numbers
  kWritesVariable = 1 << 4,  // writes the variables `written_variable_inputs` names, in place
  kRandom = 1 << 5,          // draws random numbers: never merged, never folded
  kShapeOnly = 1 << 7,       // reads only its inputs' shapes (ZerosLike, Size): foldable once shapes are known
  // Writes output element i after reading element i of each input and nothing else, so its
  // output may take over the buffer of a dying input of the same shape and dtype. Set for
  // every op with an ElementwiseFn.
  kInPlace = 1 << 8,
  // A FusedMatMul-like op that can also emit the column sums of its rank-2 output as
  // output 1 (attributes "column_sum", "mean", "reduced_shape"): a bias gradient.
  kColumnSums = 1 << 9,
  // A fused op whose program's values (output 1 of a FusedReduce, output 0 otherwise) can
  // also be written rounded to bfloat16, as an extra last output (attribute
  // "bfloat16_copy"): a Cast of them to bfloat16 in the same pass (core/compiler/cast_fusion.cc).
  kBFloat16Copy = 1 << 10,
  // A fused optimizer update that can also write, in the same pass, the bfloat16 copy of a
  // float32 variable it stores (attribute "bfloat16_copies"; ops/bfloat16_copies.h).
  kKeepsBFloat16Copies = 1 << 11,
};

// The few ops the compiler and the Session must create or recognise as such: found by role
// (OpRegistry::with_role), never by name. At most one op has each role.
enum class OpRole {
  kNone,
  kConstant,     // its output is attribute "value"
  kPlaceholder,  // fed per run; attributes "dtype", "shape"
  kVariable,     // session state; attributes "dtype", "shape", "initial_value"
  kFusedLoop,    // runs an elementwise FusedProgram (attribute "program") over its output
  kFusedUpdate,  // the same, with stores into variables: a fused optimizer update
  kFusedReduce,  // the same, summed over axes as it is computed (FusedReduce)
  kCast,         // its output is its input converted to attribute "dtype"
  kVariableAsBFloat16,  // a float32 Variable (input 0) rounded to bfloat16, kept across runs
};

// How an op writes its variable input 0 with its input 1 (Assign, AssignAdd, AssignSub).
enum class VariableUpdate { kNone, kAssign, kAdd, kSub };

// A GEMM-like op that the compiler can fuse with what consumes its output: the op that runs
// it followed by an elementwise epilogue program, and the one whose epilogue is an optimizer
// update of variables. The fused node keeps this node's inputs and attributes and appends the
// epilogue's other operands and attributes "program" and "ops".
struct EpilogueFusion {
  std::string op;         // e.g. "FusedMatMul"; empty: no epilogue fusion
  std::string update_op;  // e.g. "FusedMatMulAssign"; empty: no update fusion
  explicit operator bool() const { return !op.empty(); }
};

// A reduction that is a sum (or mean) of input 0 over some of its axes, which the compiler
// can compute in the same pass as an elementwise producer. `axes` sorted, non-negative.
struct SumAxes {
  std::vector<int64_t> axes;
  bool mean = false;
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
  OpRole role = OpRole::kNone;
  // Output 0 may share the storage of this input (a view: Reshape, a same-dtype Cast, the
  // variable an Assign returns). Readers of the output then read that input.
  int view_of_input = -1;
  VariableUpdate variable_update = VariableUpdate::kNone;
  EpilogueFusion epilogue;
  // For ops with kWritesVariable whose written variables are not just input 0.
  std::vector<int> (*written_inputs)(const Node& node) = nullptr;
  std::optional<SumAxes> (*sum_axes)(const Node& node) = nullptr;
  // An input or constant the node always equals (x + 0, reshape to the same shape, ...),
  // or an invalid Output. Used by the compiler's algebraic simplification.
  Output (*simplify)(const Node& node) = nullptr;
  // Multiply-adds or elements touched, to decide what is worth a task of its own. Default:
  // the elements of the inputs and outputs.
  int64_t (*work)(const Node& node) = nullptr;
  // Bytes of per-thread kernel scratch a run of the node takes at most (im2col panels):
  // outside the plan's arena, reported in its summary.
  int64_t (*scratch_bytes)(const Node& node) = nullptr;
  bool has(OpTraits t) const { return (traits & t) != 0; }
  bool is(OpRole r) const { return role == r; }
  bool is_source() const { return role == OpRole::kConstant || role == OpRole::kPlaceholder || role == OpRole::kVariable; }
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
  const OpDef& with_role(OpRole role) const;  // throws when no op has it

 private:
  bool has_role(OpRole role) const;
  std::vector<std::unique_ptr<OpDef>> ops_;
};

struct OpRegistrar {
  explicit OpRegistrar(OpDef def) { OpRegistry::global().add(std::move(def)); }
};

#define HORN_CONCAT_INNER(a, b) a##b
#define HORN_CONCAT(a, b) HORN_CONCAT_INNER(a, b)
#define HORN_REGISTER_OP(...) \
  static ::horn::OpRegistrar HORN_CONCAT(horn_op_registrar_, __COUNTER__)(::horn::OpDef __VA_ARGS__)

// The node's inputs that are variables it writes in place (empty for most ops).
std::vector<int> written_variable_inputs(const Node& node);
// The input whose storage output `index` may share, looking through nothing; -1 if none.
int viewed_input(const Node& node, int index = 0);
// Multiply-adds or elements a run of the node touches (OpDef::work, or inputs + outputs).
int64_t work_of(const Node& node);

// Runs a node's shape function on the given input dtypes/shapes.
ShapeContext infer_shapes(const Node& node, std::vector<DType> dtypes, std::vector<Shape> shapes);

template <typename... Args>
[[noreturn]] void ShapeContext::error(const Args&... args) const {
  fail(node.op_name(), " '", node.name, "': ", args...);
}

}  // namespace horn
