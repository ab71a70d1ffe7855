// 2-D batch normalization over NHWC activations, fp32, as PyTorch's BatchNorm2d
// (affine, track_running_stats, momentum 0.1, eps 1e-5 by default).
//
// Shapes: x, y, dy, dx are [N, H, W, C], seen as [rows = N*H*W, C]; gamma (weight), beta
// (bias), running_mean, running_var, save_mean, save_invstd, dgamma, dbeta are [C].
//
// Training mode normalizes with the batch statistics over N, H, W:
//   mean = sum x / rows,  var = sum (x - mean)^2 / rows (biased),  invstd = 1/sqrt(var + eps)
//   y = (x - mean) * invstd * gamma + beta
// and updates the running statistics with the UNBIASED variance:
//   running_mean = (1 - momentum) * running_mean + momentum * mean
//   running_var  = (1 - momentum) * running_var  + momentum * var * rows / (rows - 1)
//   num_batches_tracked += 1
// Eval mode normalizes with running_mean / running_var and updates nothing.
//
// Sums are taken in double over fixed slots of rows (bit-identical for any thread count).
#pragma once

#include <cstdint>

#include "ops/ops_common.h"

namespace personcls::ops {

struct BatchNorm2dShape {
  int n = 1, h = 1, w = 1, c = 1;
  int64_t rows() const { return int64_t{n} * h * w; }
  int64_t numel() const { return rows() * c; }
};

constexpr float kBatchNormEps = 1e-5f;
constexpr float kBatchNormMomentum = 0.1f;

// Training-mode forward. Needs rows >= 2 (PyTorch raises for one value per channel);
// throws std::invalid_argument otherwise. save_mean / save_invstd (required) receive the
// batch mean and 1/sqrt(biased var + eps) for the backward pass. running_mean,
// running_var and num_batches_tracked may be nullptr (not tracked); y may alias x.
void batchnorm2d_forward_train(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* beta, float* y, float* save_mean,
                               float* save_invstd, float* running_mean, float* running_var, int64_t* num_batches_tracked,
                               float momentum = kBatchNormMomentum, float eps = kBatchNormEps);

// Eval-mode forward: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
// y may alias x.
void batchnorm2d_forward_eval(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* beta, const float* running_mean,
                              const float* running_var, float* y, float eps = kBatchNormEps);

// Training-mode backward (the batch statistics depend on x):
//   xhat = (x - mean) * invstd,  dbeta = sum dy,  dgamma = sum dy * xhat
//   dx = gamma * invstd * (dy - dbeta / rows - xhat * dgamma / rows)
// save_mean / save_invstd as written by batchnorm2d_forward_train. dx, dgamma, dbeta may be
// nullptr; `mode` applies to each. dx must not alias x or dy.
void batchnorm2d_backward_train(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* save_mean, const float* save_invstd,
                                const float* dy, float* dx, float* dgamma, float* dbeta, GradMode mode);

// Eval-mode backward (the statistics are constants):
//   dx = dy * gamma / sqrt(running_var + eps),  dgamma = sum dy * xhat,  dbeta = sum dy
// with xhat = (x - running_mean) / sqrt(running_var + eps). dx must not alias x.
void batchnorm2d_backward_eval(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* running_mean, const float* running_var,
                               const float* dy, float* dx, float* dgamma, float* dbeta, GradMode mode, float eps = kBatchNormEps);

}  // namespace personcls::ops
