#include "ops/batchnorm2d.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/reduce_internal.h"

namespace personcls::ops {

namespace {

void Validate(const BatchNorm2dShape& s) { PCLS_OPS_CHECK(s.n >= 1 && s.h >= 1 && s.w >= 1 && s.c >= 1, "sizes must be >= 1"); }

// y[r, c] = (x[r, c] - center[c]) * scale[c] + shift[c], in parallel over rows.
void AffineRows(const BatchNorm2dShape& s, const float* x, const float* center, const float* scale, const float* shift, float* y) {
  const int c = s.c;
  internal::ParallelRange(s.rows(), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
      for (int i = 0; i < c; ++i) yr[i] = (xr[i] - center[i]) * scale[i] + shift[i];
    }
  });
}

// sums[0..C) = sum dy, sums[C..2C) = sum dy * (x - center), over all rows.
void GradSums(const BatchNorm2dShape& s, const float* x, const double* center, const float* dy, double* sums) {
  const int c = s.c;
  internal::ReduceRows(
      s.rows(), 2 * c,
      [&](int64_t r, double* acc) {
        const float* xr = x + r * c;
        const float* gr = dy + r * c;
        for (int i = 0; i < c; ++i) {
          const double g = gr[i];
          acc[i] += g;
          acc[c + i] += g * (static_cast<double>(xr[i]) - center[i]);
        }
      },
      sums);
}

void Store(float* dst, double v, bool accumulate) { *dst = accumulate ? *dst + static_cast<float>(v) : static_cast<float>(v); }

}  // namespace

void batchnorm2d_forward_train(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* beta, float* y, float* save_mean,
                               float* save_invstd, float* running_mean, float* running_var, int64_t* num_batches_tracked, float momentum,
                               float eps) {
  Validate(s);
  PCLS_OPS_CHECK(x && gamma && beta && y && save_mean && save_invstd, "null pointer");
  PCLS_OPS_CHECK(s.rows() >= 2, "training needs more than one value per channel");
  PCLS_OPS_CHECK((running_mean == nullptr) == (running_var == nullptr), "running_mean and running_var go together");
  const int c = s.c;
  const int64_t rows = s.rows();
  // One pass: sums of (x - x[row 0]) and of its square, in double. The shift by a value
  // of the batch keeps E[d^2] - E[d]^2 free of cancellation when |mean| >> std.
  std::vector<double> shift(x, x + c), sums(2 * static_cast<size_t>(c)), mean(c), sq(c);
  internal::ReduceRows(
      rows, 2 * c,
      [&](int64_t r, double* acc) {
        const float* xr = x + r * c;
        for (int i = 0; i < c; ++i) {
          const double d = xr[i] - shift[i];
          acc[i] += d;
          acc[c + i] += d * d;
        }
      },
      sums.data());
  for (int i = 0; i < c; ++i) {
    const double off = sums[i] / static_cast<double>(rows);
    mean[i] = shift[i] + off;
    sq[i] = std::max(0.0, sums[c + i] - off * sums[i]);  // sum of squared deviations
  }
  std::vector<float> scale(c);
  for (int i = 0; i < c; ++i) {
    const double var = sq[i] / static_cast<double>(rows);
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    save_mean[i] = static_cast<float>(mean[i]);
    save_invstd[i] = static_cast<float>(invstd);
    scale[i] = static_cast<float>(invstd * gamma[i]);
    if (running_mean) {
      const double m = momentum;
      const double unbiased = sq[i] / static_cast<double>(rows - 1);
      running_mean[i] = static_cast<float>((1.0 - m) * running_mean[i] + m * mean[i]);
      running_var[i] = static_cast<float>((1.0 - m) * running_var[i] + m * unbiased);
    }
  }
  if (num_batches_tracked) ++*num_batches_tracked;
  AffineRows(s, x, save_mean, scale.data(), beta, y);
}

void batchnorm2d_forward_eval(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* beta, const float* running_mean,
                              const float* running_var, float* y, float eps) {
  Validate(s);
  PCLS_OPS_CHECK(x && gamma && beta && running_mean && running_var && y, "null pointer");
  std::vector<float> scale(s.c);
  for (int i = 0; i < s.c; ++i) scale[i] = static_cast<float>(gamma[i] / std::sqrt(static_cast<double>(running_var[i]) + eps));
  AffineRows(s, x, running_mean, scale.data(), beta, y);
}

void batchnorm2d_backward_train(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* save_mean, const float* save_invstd,
                                const float* dy, float* dx, float* dgamma, float* dbeta, GradMode mode) {
  Validate(s);
  PCLS_OPS_CHECK(x && gamma && save_mean && save_invstd && dy, "null pointer");
  const int c = s.c;
  const double rows = static_cast<double>(s.rows());
  const bool accumulate = mode == GradMode::kAccumulate;
  std::vector<double> center(save_mean, save_mean + c), sums(2 * static_cast<size_t>(c));
  GradSums(s, x, center.data(), dy, sums.data());
  // dx = a * dy - a * dbeta / rows - (x - mean) * a * invstd * dgamma / rows, with a = gamma * invstd.
  std::vector<float> a(c), b(c), k(c);
  for (int i = 0; i < c; ++i) {
    const double invstd = save_invstd[i];
    const double dbeta_i = sums[i], dgamma_i = sums[c + i] * invstd;
    if (dbeta) Store(dbeta + i, dbeta_i, accumulate);
    if (dgamma) Store(dgamma + i, dgamma_i, accumulate);
    const double ai = gamma[i] * invstd;
    a[i] = static_cast<float>(ai);
    b[i] = static_cast<float>(ai * dbeta_i / rows);
    k[i] = static_cast<float>(ai * invstd * dgamma_i / rows);
  }
  if (!dx) return;
  internal::ParallelRange(s.rows(), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * c;
      const float* gr = dy + r * c;
      float* dr = dx + r * c;
      for (int i = 0; i < c; ++i) {
        const float v = a[i] * gr[i] - b[i] - (xr[i] - save_mean[i]) * k[i];
        dr[i] = accumulate ? dr[i] + v : v;
      }
    }
  });
}

void batchnorm2d_backward_eval(const BatchNorm2dShape& s, const float* x, const float* gamma, const float* running_mean, const float* running_var,
                               const float* dy, float* dx, float* dgamma, float* dbeta, GradMode mode, float eps) {
  Validate(s);
  PCLS_OPS_CHECK(gamma && running_var && dy, "null pointer");
  PCLS_OPS_CHECK(!(dgamma || dbeta) || (x && running_mean), "dgamma/dbeta need x and running_mean");
  const int c = s.c;
  const bool accumulate = mode == GradMode::kAccumulate;
  std::vector<double> rinv(c);
  for (int i = 0; i < c; ++i) rinv[i] = 1.0 / std::sqrt(static_cast<double>(running_var[i]) + eps);
  if (dgamma || dbeta) {
    std::vector<double> center(running_mean, running_mean + c), sums(2 * static_cast<size_t>(c));
    GradSums(s, x, center.data(), dy, sums.data());
    for (int i = 0; i < c; ++i) {
      if (dbeta) Store(dbeta + i, sums[i], accumulate);
      if (dgamma) Store(dgamma + i, sums[c + i] * rinv[i], accumulate);
    }
  }
  if (!dx) return;
  std::vector<float> scale(c);
  for (int i = 0; i < c; ++i) scale[i] = static_cast<float>(gamma[i] * rinv[i]);
  internal::ParallelRange(s.rows(), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* gr = dy + r * c;
      float* dr = dx + r * c;
      for (int i = 0; i < c; ++i) dr[i] = accumulate ? dr[i] + gr[i] * scale[i] : gr[i] * scale[i];
    }
  });
}

}  // namespace personcls::ops
