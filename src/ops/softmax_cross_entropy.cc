#include "ops/softmax_cross_entropy.h"

#include <cmath>

namespace personcls::ops {

float softmax_cross_entropy_forward(int n, int k, const float* logits, const int32_t* labels, float* probs) {
  PCLS_OPS_CHECK(n >= 1 && k >= 1, "sizes must be >= 1");
  PCLS_OPS_CHECK(logits && labels, "null pointer");
  double total = 0.0;
  for (int b = 0; b < n; ++b) {
    const float* z = logits + int64_t{b} * k;
    PCLS_OPS_CHECK(labels[b] >= 0 && labels[b] < k, "label " + std::to_string(labels[b]) + " outside [0, " + std::to_string(k) + ")");
    double zmax = z[0];
    for (int j = 1; j < k; ++j) zmax = std::fmax(zmax, static_cast<double>(z[j]));
    double sum = 0.0;
    for (int j = 0; j < k; ++j) sum += std::exp(z[j] - zmax);
    const double lse = zmax + std::log(sum);
    total += lse - z[labels[b]];
    if (probs)
      for (int j = 0; j < k; ++j) probs[int64_t{b} * k + j] = static_cast<float>(std::exp(z[j] - lse));
  }
  return static_cast<float>(total / n);
}

void softmax_cross_entropy_backward(int n, int k, const float* probs, const int32_t* labels, float dloss, float* dlogits, GradMode mode) {
  PCLS_OPS_CHECK(n >= 1 && k >= 1, "sizes must be >= 1");
  PCLS_OPS_CHECK(probs && labels && dlogits, "null pointer");
  const bool accumulate = mode == GradMode::kAccumulate;
  PCLS_OPS_CHECK(!accumulate || dlogits != probs, "accumulating into probs itself");
  const float scale = static_cast<float>(static_cast<double>(dloss) / n);
  for (int b = 0; b < n; ++b) {
    PCLS_OPS_CHECK(labels[b] >= 0 && labels[b] < k, "label outside [0, k)");
    for (int j = 0; j < k; ++j) {
      const int64_t i = int64_t{b} * k + j;
      const float g = (probs[i] - (j == labels[b] ? 1.0f : 0.0f)) * scale;
      dlogits[i] = accumulate ? dlogits[i] + g : g;
    }
  }
}

}  // namespace personcls::ops
