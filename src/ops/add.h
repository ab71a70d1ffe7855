// Elementwise addition of two tensors of the same shape (`n` values), fp32: y = a + b.
// Parallel over blocks of elements.
#pragma once

#include <cstdint>

#include "ops/ops_common.h"

namespace personcls::ops {

// y may alias a or b.
void add_forward(int64_t n, const float* a, const float* b, float* y);

// da = dy and db = dy (each may be nullptr; `mode` applies to both). da or db may alias dy
// in kOverwrite mode only (that copy is then skipped).
void add_backward(int64_t n, const float* dy, float* da, float* db, GradMode mode);

}  // namespace personcls::ops
