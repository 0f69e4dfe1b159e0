// Element types. float64 exists for precise gradient checks; uint8 for raw image data;
// bool for comparison results (stored as one byte); bfloat16 (Eigen::bfloat16: the upper
// half of a float32, rounded to nearest even) for the inputs of mixed-precision products.
//
// Which dtypes ops accept: is_floating (float32, float64) is what the float kernels
// (elementwise, reductions, ...) compute in. bfloat16 is a storage and GEMM-input type:
// Cast converts to and from it and MatMul multiplies it with float32 accumulation.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

// Eigen's type, declared here so that this header stays light; code that visits dtypes
// includes core/bfloat16.h (Eigen/Core) for the definition.
namespace Eigen {
struct bfloat16;
}

namespace horn {

using bfloat16 = Eigen::bfloat16;

enum class DType : uint8_t { kFloat32, kFloat64, kInt32, kUInt8, kBool, kBFloat16 };

std::string dtype_name(DType t);
DType dtype_from_name(const std::string& name);  // throws on an unknown name
size_t dtype_size(DType t);
bool is_floating(DType t);   // float32 or float64: the dtypes of float kernels
bool is_any_float(DType t);  // float32, float64 or bfloat16: differentiable values

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUInt8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };
template <> struct DTypeOf<bfloat16> { static constexpr DType value = DType::kBFloat16; };

// Calls fn(T{}) with T the C++ type of `t` (include core/bfloat16.h where this is used:
// BF16 is a parameter only so that the complete type is needed at the call, not here).
template <typename Fn, typename BF16 = bfloat16>
auto visit_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    case DType::kInt32: return fn(int32_t{});
    case DType::kUInt8: return fn(uint8_t{});
    case DType::kBool: return fn(bool{});
    case DType::kBFloat16: return fn(BF16{});
  }
  return fn(float{});
}

}  // namespace horn
