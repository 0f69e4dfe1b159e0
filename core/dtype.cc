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
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (DType t : {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kUInt8, DType::kBool})
    if (dtype_name(t) == name) return t;
  fail("unknown dtype '", name, "'; known: float32, float64, int32, uint8, bool");
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt32: return 4;
    case DType::kUInt8: return 1;
    case DType::kBool: return 1;
  }
  return 0;
}

bool is_floating(DType t) { return t == DType::kFloat32 || t == DType::kFloat64; }

}  // namespace horn
