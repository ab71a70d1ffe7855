#include "ops/soft_cross_entropy.h"

#include <cmath>
#include <cstdint>

namespace personcls::ops {

float soft_cross_entropy_forward(int n, int k, const float* logits, const float* targets, const float* weights, float temperature,
                                 float* probs) {
  PCLS_OPS_CHECK(n >= 1 && k >= 1, "sizes must be >= 1");
  PCLS_OPS_CHECK(logits && targets, "null pointer");
  PCLS_OPS_CHECK(temperature > 0, "temperature must be > 0");
  const double inv_t = 1.0 / temperature;
  double total = 0.0;
  for (int b = 0; b < n; ++b) {
    const float* z = logits + int64_t{b} * k;
    const float* q = targets + int64_t{b} * k;
    const double w = weights ? weights[b] : 1.0;
    PCLS_OPS_CHECK(w >= 0, "negative weight");
    double zmax = z[0] * inv_t;
    for (int j = 1; j < k; ++j) zmax = std::fmax(zmax, z[j] * inv_t);
    double sum = 0.0;
    for (int j = 0; j < k; ++j) sum += std::exp(z[j] * inv_t - zmax);
    const double lse = zmax + std::log(sum);
    double kl = 0.0;
    for (int j = 0; j < k; ++j) {
      PCLS_OPS_CHECK(q[j] >= 0, "negative target");
      const double log_p = z[j] * inv_t - lse;
      if (q[j] > 0) kl += q[j] * (std::log(static_cast<double>(q[j])) - log_p);
      if (probs) probs[int64_t{b} * k + j] = static_cast<float>(std::exp(log_p));
    }
    total += w * kl;
  }
  return static_cast<float>(total * temperature * temperature / n);
}

void soft_cross_entropy_backward(int n, int k, const float* probs, const float* targets, const float* weights, float temperature,
                                 float dloss, float* dlogits, GradMode mode) {
  PCLS_OPS_CHECK(n >= 1 && k >= 1, "sizes must be >= 1");
  PCLS_OPS_CHECK(probs && targets && dlogits, "null pointer");
  PCLS_OPS_CHECK(temperature > 0, "temperature must be > 0");
  const bool accumulate = mode == GradMode::kAccumulate;
  PCLS_OPS_CHECK(!accumulate || dlogits != probs, "accumulating into probs itself");
  for (int b = 0; b < n; ++b) {
    const float w = weights ? weights[b] : 1.0f;
    const float scale = static_cast<float>(static_cast<double>(dloss) * temperature * w / n);
    for (int j = 0; j < k; ++j) {
      const int64_t i = int64_t{b} * k + j;
      const float g = (probs[i] - targets[i]) * scale;
      dlogits[i] = accumulate ? dlogits[i] + g : g;
    }
  }
}

}  // namespace personcls::ops
