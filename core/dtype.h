// Element types. float64 exists for precise gradient checks; uint8 for raw image data;
// bool for comparison results (stored as one byte).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace horn {

enum class DType : uint8_t { kFloat32, kFloat64, kInt32, kUInt8, kBool };

std::string dtype_name(DType t);
DType dtype_from_name(const std::string& name);  // throws on an unknown name
size_t dtype_size(DType t);
bool is_floating(DType t);

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUInt8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };

// Calls fn(T{}) with T the C++ type of `t`. The float variant only admits float types.
template <typename Fn>
auto visit_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    case DType::kInt32: return fn(int32_t{});
    case DType::kUInt8: return fn(uint8_t{});
    case DType::kBool: return fn(bool{});
  }
  return fn(float{});
}

}  // namespace horn
