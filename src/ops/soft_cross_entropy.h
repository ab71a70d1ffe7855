// Soft-target cross-entropy with a temperature, fp32: the distillation loss
// KL(q || softmax(z / T)) scaled by T^2 (Hinton et al.), with optional per-sample weights.
//   logits z [N, K], targets q [N, K] (each row a probability distribution), weights w [N]
//   (nullptr: every weight 1), temperature T > 0.
//   p_n  = softmax(z_n / T)
//   loss = T^2 / N * sum_n w_n * sum_j q_nj * (log q_nj - log p_nj)      (0 log 0 = 0)
// The value is the KL divergence: the cross-entropy -sum q log p minus the targets' own
// entropy, which does not depend on z, so the gradient is the cross-entropy's:
//   dloss/dz_nj = T * w_n * (p_nj - q_nj) / N
// The T^2 factor keeps the gradient's size independent of T (it is T, not 1/T).
// Log-sum-exp in double, as softmax_cross_entropy.
#pragma once

#include "ops/ops_common.h"

namespace personcls::ops {

// Returns the mean weighted loss. probs [N, K] (may be nullptr) receives softmax(z / T),
// which the backward pass needs. Throws std::invalid_argument on T <= 0, a negative
// target or weight.
float soft_cross_entropy_forward(int n, int k, const float* logits, const float* targets, const float* weights, float temperature,
                                 float* probs);

// dlogits[n, j] = dloss * T * w_n * (probs[n, j] - targets[n, j]) / N; dloss is the gradient
// of the final objective with respect to the loss. dlogits may alias probs in kOverwrite mode.
void soft_cross_entropy_backward(int n, int k, const float* probs, const float* targets, const float* weights, float temperature,
                                 float dloss, float* dlogits, GradMode mode);

}  // namespace personcls::ops
