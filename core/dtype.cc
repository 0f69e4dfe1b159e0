#include "core/dtype.h"

#include "core/errors.h"

namespace horn {

std::string dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt32: return "int32";
    case DType::kUInt8: return "uint8";
    case DType::kBool: return "bool";
    case DType::kBFloat16: return "bfloat16";
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (DType t : {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kUInt8, DType::kBool, DType::kBFloat16})
    if (dtype_name(t) == name) return t;
  fail("unknown dtype '", name, "'; known: float32, float64, int32, uint8, bool, bfloat16");
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt32: return 4;
    case DType::kUInt8: return 1;
    case DType::kBool: return 1;
    case DType::kBFloat16: return 2;
  }
  return 0;
}

bool is_floating(DType t) { return t == DType::kFloat32 || t == DType::kFloat64; }

bool is_any_float(DType t) { return is_floating(t) || t == DType::kBFloat16; }

}  // namespace horn
