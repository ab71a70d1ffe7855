// Global average pooling over H and W, fp32: NHWC [N, H, W, C] -> [N, C].
//   y[n, c] = sum_{h,w} x[n, h, w, c] / (H * W)
// Sums in double. Parallel over the batch.
#pragma once

#include "ops/ops_common.h"

namespace personcls::ops {

void global_avg_pool_forward(int n, int h, int w, int c, const float* x, float* y);

// dx[n, h, w, c] = dy[n, c] / (H * W); dy [N, C], dx [N, H, W, C].
void global_avg_pool_backward(int n, int h, int w, int c, const float* dy, float* dx, GradMode mode);

}  // namespace personcls::ops
