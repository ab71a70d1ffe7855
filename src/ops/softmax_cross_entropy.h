// Softmax cross-entropy loss, fp32 (PyTorch's F.cross_entropy with reduction='mean'):
//   logits [N, K], labels [N] (class indices in [0, K))
//   loss = (1/N) sum_n ( logsumexp(logits[n, :]) - logits[n, labels[n]] )
// Numerically stable: logsumexp(z) = max(z) + log(sum exp(z - max(z))), in double.
#pragma once

#include <cstdint>

#include "ops/ops_common.h"

namespace personcls::ops {

// Returns the mean loss. probs [N, K] (may be nullptr) receives softmax(logits), which
// the backward pass needs. Throws std::invalid_argument on a label outside [0, K).
float softmax_cross_entropy_forward(int n, int k, const float* logits, const int32_t* labels, float* probs);

// dlogits[n, j] = dloss * (probs[n, j] - [j == labels[n]]) / N, where dloss is the
// gradient of the final objective with respect to the loss (1 when the loss is the
// objective). dlogits may alias probs in kOverwrite mode.
void softmax_cross_entropy_backward(int n, int k, const float* probs, const int32_t* labels, float dloss, float* dlogits, GradMode mode);

}  // namespace personcls::ops
