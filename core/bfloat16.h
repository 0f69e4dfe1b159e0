// The definition of horn::bfloat16 (Eigen::bfloat16), for code that visits dtypes or reads
// bfloat16 values. Conversion from float rounds to nearest even (NaN stays NaN); to float is
// exact.
#pragma once
#include <Eigen/Core>

#include "core/dtype.h"

static_assert(sizeof(horn::bfloat16) == 2, "bfloat16 is stored as 16 bits");
