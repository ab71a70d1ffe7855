// Table-driven checks of every fp32 training op in src/ops (in the spirit of ggml's
// test-backend-ops): ONE table of cases, each case = an op, its arguments (shapes, value
// ranges, which get gradients) and a naive double-precision reference forward written
// here. Every case is run through four tests:
//
//  Forward     the float op equals the double reference within 1e-6 + 1e-5 |ref|,
//              with every SGEMM micro-kernel this CPU has (scalar, AVX2).
//  Gradients   for L = sum(g * y) with a random upstream gradient g, the analytic float
//              gradient of every differentiable input and parameter equals the central
//              finite difference of L computed on the DOUBLE reference (step 1e-4) within
//              1e-4 + 1e-3 |fd|. Tensors up to OpCase::fd_max elements are checked
//              completely, larger ones on a random sample of fd_max elements. For relu and
//              relu6, points within 1e-3 of a kink are skipped (kink-aware).
//  Accumulate  GradMode::kAccumulate adds the same gradient to what the buffer held, and
//              kOverwrite never reads the buffer (it is filled with NaN first).
//  Threads     results with 1 and 2 OpenMP threads are BIT-identical (memcmp). The ops
//              split work at boundaries that depend only on the shapes and on Tuning, and
//              add partial sums in a fixed order, so the thread count cannot change any
//              rounding; the test shrinks Tuning so that even tiny shapes run in parallel.
//
// Seeds: personcls::testing::TestSeed() (--gtest_random_seed), mixed with the case name.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/ops.h"
#include "test_util.h"

namespace personcls::ops {
namespace {

using Vec = std::vector<float>;
using DVec = std::vector<double>;

constexpr double kFdStep = 1e-4;
constexpr double kKinkMargin = 1e-3;
constexpr double kFwdAbs = 1e-6, kFwdRel = 1e-5;
constexpr double kGradAbs = 1e-4, kGradRel = 1e-3;

struct ArgSpec {
  std::string name;
  int64_t numel = 0;
  double lo = -1.0, hi = 1.0;  // uniform value range
  bool grad = true;            // has a gradient to check
  int int_range = 0;           // > 0: integer values in [0, int_range) (labels); no gradient
  std::vector<double> kinks;   // finite differences skip values within kKinkMargin of these
};

// A differentiable argument with values uniform in [lo, hi].
ArgSpec Arg(std::string name, int64_t numel, double lo = -1.0, double hi = 1.0) {
  ArgSpec a;
  a.name = std::move(name);
  a.numel = numel;
  a.lo = lo;
  a.hi = hi;
  return a;
}
// An argument without a gradient (running statistics).
ArgSpec Const(std::string name, int64_t numel, double lo, double hi) {
  ArgSpec a = Arg(std::move(name), numel, lo, hi);
  a.grad = false;
  return a;
}
// Integer labels in [0, classes).
ArgSpec Labels(std::string name, int64_t numel, int classes) {
  ArgSpec a = Arg(std::move(name), numel);
  a.grad = false;
  a.int_range = classes;
  return a;
}
// A differentiable argument whose finite differences skip the given kinks.
ArgSpec Kinked(std::string name, int64_t numel, double lo, double hi, std::vector<double> kinks) {
  ArgSpec a = Arg(std::move(name), numel, lo, hi);
  a.kinks = std::move(kinks);
  return a;
}

struct OpCase {
  std::string name;
  std::vector<ArgSpec> args;
  int64_t out_numel = 0;    // differentiable outputs
  int64_t extra_numel = 0;  // forward-only outputs after them (running stats, probabilities)
  int fd_max = 48;          // finite-difference elements checked per tensor at most
  // out: out_numel + extra_numel values.
  std::function<void(const std::vector<Vec>& in, Vec& out)> fwd;
  // grads[i]: sized args[i].numel for every grad arg (else empty), written per `mode`.
  std::function<void(const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& grads, GradMode mode)> bwd;
  std::function<void(const std::vector<DVec>& in, DVec& out)> ref;
};

// gtest prints a failing case by its name, not its bytes.
void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

std::string ShapeName(std::initializer_list<int> dims) {
  std::string s;
  for (int d : dims) {
    if (!s.empty()) s.push_back('x');
    s.append(std::to_string(d));
  }
  return s;
}

// ---- naive double references ------------------------------------------------------

DVec RefConv(const Conv2dShape& s, const DVec& x, const DVec& w, const DVec* b) {
  const int oh = s.out_h(), ow = s.out_w(), k = s.kernel;
  DVec y(static_cast<size_t>(s.output_numel()));
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int co = 0; co < s.cout; ++co) {
          double acc = b ? (*b)[co] : 0.0;
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
              if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
              for (int ci = 0; ci < s.cin; ++ci)
                acc += x[((size_t(n) * s.h + iy) * s.w + ix) * s.cin + ci] * w[((size_t(co) * k + ky) * k + kx) * s.cin + ci];
            }
          y[((size_t(n) * oh + oy) * ow + ox) * s.cout + co] = acc;
        }
  return y;
}

// ---- case builders ------------------------------------------------------------------

OpCase ConvCase(const Conv2dShape& s, bool bias, int fd_max = 48) {
  OpCase c;
  c.name = "conv" + std::to_string(s.kernel) + "x" + std::to_string(s.kernel) + "_s" + std::to_string(s.stride) + (s.pad == (s.kernel - 1) / 2 ? "" : "p" + std::to_string(s.pad)) + "_" +
           ShapeName({s.n, s.h, s.w, s.cin}) + "_to" + std::to_string(s.cout) + (bias ? "_bias" : "");
  const double wr = 1.0 / std::sqrt(double(s.kernel * s.kernel * s.cin));
  c.args = {Arg("x", s.input_numel()), Arg("w", s.weight_numel(), -wr, wr)};
  if (bias) c.args.push_back(Arg("b", s.cout, -0.5, 0.5));
  c.out_numel = s.output_numel();
  c.fd_max = fd_max;
  c.fwd = [s, bias](const std::vector<Vec>& in, Vec& out) { conv2d_forward(s, in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, out.data()); };
  c.bwd = [s, bias](const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    conv2d_backward(s, in[0].data(), in[1].data(), dout.data(), g[0].data(), g[1].data(), bias ? g[2].data() : nullptr, mode);
  };
  c.ref = [s, bias](const std::vector<DVec>& in, DVec& out) { out = RefConv(s, in[0], in[1], bias ? &in[2] : nullptr); };
  return c;
}

// Forward output: y, then the updated running_mean, running_var and num_batches_tracked.
OpCase BatchNormTrainCase(const BatchNorm2dShape& s, int fd_max = 48) {
  OpCase c;
  c.name = "bn_train_" + ShapeName({s.n, s.h, s.w, s.c});
  c.args = {Arg("x", s.numel(), -0.5, 1.5), Arg("gamma", s.c, 0.5, 1.5), Arg("beta", s.c, -0.5, 0.5), Const("running_mean", s.c, -0.5, 0.5),
            Const("running_var", s.c, 0.5, 1.5)};
  c.out_numel = s.numel();
  c.extra_numel = 2 * s.c + 1;
  c.fd_max = fd_max;
  constexpr int64_t kTracked = 3;
  c.fwd = [s](const std::vector<Vec>& in, Vec& out) {
    Vec mean(s.c), invstd(s.c), rm = in[3], rv = in[4];
    int64_t nbt = kTracked;
    batchnorm2d_forward_train(s, in[0].data(), in[1].data(), in[2].data(), out.data(), mean.data(), invstd.data(), rm.data(), rv.data(), &nbt);
    std::copy(rm.begin(), rm.end(), out.begin() + s.numel());
    std::copy(rv.begin(), rv.end(), out.begin() + s.numel() + s.c);
    out[s.numel() + 2 * s.c] = static_cast<float>(nbt);
  };
  c.bwd = [s](const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    Vec y(s.numel()), mean(s.c), invstd(s.c);
    batchnorm2d_forward_train(s, in[0].data(), in[1].data(), in[2].data(), y.data(), mean.data(), invstd.data(), nullptr, nullptr, nullptr);
    batchnorm2d_backward_train(s, in[0].data(), in[1].data(), mean.data(), invstd.data(), dout.data(), g[0].data(), g[1].data(), g[2].data(), mode);
  };
  c.ref = [s](const std::vector<DVec>& in, DVec& out) {
    const int64_t rows = s.rows();
    out.assign(s.numel() + 2 * s.c + 1, 0.0);
    for (int ch = 0; ch < s.c; ++ch) {
      double mean = 0.0, sq = 0.0;
      for (int64_t r = 0; r < rows; ++r) mean += in[0][r * s.c + ch];
      mean /= double(rows);
      for (int64_t r = 0; r < rows; ++r) sq += (in[0][r * s.c + ch] - mean) * (in[0][r * s.c + ch] - mean);
      const double var = sq / double(rows);
      for (int64_t r = 0; r < rows; ++r)
        out[r * s.c + ch] = (in[0][r * s.c + ch] - mean) / std::sqrt(var + 1e-5) * in[1][ch] + in[2][ch];
      out[s.numel() + ch] = 0.9 * in[3][ch] + 0.1 * mean;
      out[s.numel() + s.c + ch] = 0.9 * in[4][ch] + 0.1 * sq / double(rows - 1);
    }
    out[s.numel() + 2 * s.c] = kTracked + 1;
  };
  return c;
}

OpCase BatchNormEvalCase(const BatchNorm2dShape& s) {
  OpCase c;
  c.name = "bn_eval_" + ShapeName({s.n, s.h, s.w, s.c});
  c.args = {Arg("x", s.numel(), -0.5, 1.5), Arg("gamma", s.c, 0.5, 1.5), Arg("beta", s.c, -0.5, 0.5), Const("running_mean", s.c, -0.5, 0.5),
            Const("running_var", s.c, 0.5, 1.5)};
  c.out_numel = s.numel();
  c.fwd = [s](const std::vector<Vec>& in, Vec& out) {
    batchnorm2d_forward_eval(s, in[0].data(), in[1].data(), in[2].data(), in[3].data(), in[4].data(), out.data());
  };
  c.bwd = [s](const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    batchnorm2d_backward_eval(s, in[0].data(), in[1].data(), in[3].data(), in[4].data(), dout.data(), g[0].data(), g[1].data(), g[2].data(), mode);
  };
  c.ref = [s](const std::vector<DVec>& in, DVec& out) {
    out.assign(s.numel(), 0.0);
    for (int64_t r = 0; r < s.rows(); ++r)
      for (int ch = 0; ch < s.c; ++ch)
        out[r * s.c + ch] = (in[0][r * s.c + ch] - in[3][ch]) / std::sqrt(in[4][ch] + 1e-5) * in[1][ch] + in[2][ch];
  };
  return c;
}

OpCase ReluCase(int n, int h, int w, int ch) {
  OpCase c;
  c.name = "relu_" + ShapeName({n, h, w, ch});
  const int64_t count = int64_t{n} * h * w * ch;
  c.args = {Kinked("x", count, -2.0, 2.0, {0.0})};
  c.out_numel = count;
  c.fwd = [count](const std::vector<Vec>& in, Vec& out) { relu_forward(count, in[0].data(), out.data()); };
  c.bwd = [count](const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    Vec y(count);
    relu_forward(count, in[0].data(), y.data());
    relu_backward(count, y.data(), dout.data(), g[0].data(), mode);
  };
  c.ref = [](const std::vector<DVec>& in, DVec& out) {
    out.resize(in[0].size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = std::max(in[0][i], 0.0);
  };
  return c;
}

OpCase Relu6Case(int n, int h, int w, int ch, bool backward_from_output) {
  OpCase c;
  c.name = "relu6_" + ShapeName({n, h, w, ch}) + (backward_from_output ? "_from_y" : "_from_x");
  const int64_t count = int64_t{n} * h * w * ch;
  c.args = {Kinked("x", count, -2.0, 8.0, {0.0, 6.0})};
  c.out_numel = count;
  c.fwd = [count](const std::vector<Vec>& in, Vec& out) { relu6_forward(count, in[0].data(), out.data()); };
  c.bwd = [count, backward_from_output](const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    Vec y(count);
    relu6_forward(count, in[0].data(), y.data());
    relu6_backward(count, backward_from_output ? y.data() : in[0].data(), dout.data(), g[0].data(), mode);
  };
  c.ref = [](const std::vector<DVec>& in, DVec& out) {
    out.resize(in[0].size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = std::min(std::max(in[0][i], 0.0), 6.0);
  };
  return c;
}

OpCase AddCase(int n, int h, int w, int ch) {
  OpCase c;
  c.name = "add_" + ShapeName({n, h, w, ch});
  const int64_t count = int64_t{n} * h * w * ch;
  c.args = {Arg("a", count), Arg("b", count)};
  c.out_numel = count;
  c.fwd = [count](const std::vector<Vec>& in, Vec& out) { add_forward(count, in[0].data(), in[1].data(), out.data()); };
  c.bwd = [count](const std::vector<Vec>&, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    add_backward(count, dout.data(), g[0].data(), g[1].data(), mode);
  };
  c.ref = [](const std::vector<DVec>& in, DVec& out) {
    out.resize(in[0].size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = in[0][i] + in[1][i];
  };
  return c;
}

OpCase GapCase(int n, int h, int w, int ch) {
  OpCase c;
  c.name = "gap_" + ShapeName({n, h, w, ch});
  c.args = {Arg("x", int64_t{n} * h * w * ch)};
  c.out_numel = int64_t{n} * ch;
  c.fwd = [=](const std::vector<Vec>& in, Vec& out) { global_avg_pool_forward(n, h, w, ch, in[0].data(), out.data()); };
  c.bwd = [=](const std::vector<Vec>&, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    global_avg_pool_backward(n, h, w, ch, dout.data(), g[0].data(), mode);
  };
  c.ref = [=](const std::vector<DVec>& in, DVec& out) {
    out.assign(size_t(n) * ch, 0.0);
    for (int b = 0; b < n; ++b)
      for (int p = 0; p < h * w; ++p)
        for (int i = 0; i < ch; ++i) out[size_t(b) * ch + i] += in[0][(size_t(b) * h * w + p) * ch + i] / double(h * w);
  };
  return c;
}

OpCase LinearCase(int n, int in_f, int out_f, bool bias) {
  OpCase c;
  c.name = "linear_" + ShapeName({n, in_f}) + "_to" + std::to_string(out_f) + (bias ? "_bias" : "");
  const double wr = 1.0 / std::sqrt(double(in_f));
  c.args = {Arg("x", int64_t{n} * in_f), Arg("w", int64_t{out_f} * in_f, -wr, wr)};
  if (bias) c.args.push_back(Arg("b", out_f, -0.5, 0.5));
  c.out_numel = int64_t{n} * out_f;
  c.fwd = [=](const std::vector<Vec>& in, Vec& out) { linear_forward(n, in_f, out_f, in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, out.data()); };
  c.bwd = [=](const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    linear_backward(n, in_f, out_f, in[0].data(), in[1].data(), dout.data(), g[0].data(), g[1].data(), bias ? g[2].data() : nullptr, mode);
  };
  c.ref = [=](const std::vector<DVec>& in, DVec& out) {
    out.assign(size_t(n) * out_f, 0.0);
    for (int b = 0; b < n; ++b)
      for (int o = 0; o < out_f; ++o) {
        double acc = bias ? in[2][o] : 0.0;
        for (int i = 0; i < in_f; ++i) acc += in[0][size_t(b) * in_f + i] * in[1][size_t(o) * in_f + i];
        out[size_t(b) * out_f + o] = acc;
      }
  };
  return c;
}

// Output: the loss, then the probabilities [N, K].
OpCase CrossEntropyCase(int n, int k, double lo, double hi) {
  OpCase c;
  c.name = "softmax_ce_" + ShapeName({n, k}) + (hi > 10 ? "_large" : "");
  c.args = {Arg("logits", int64_t{n} * k, lo, hi), Labels("labels", n, k)};
  c.out_numel = 1;
  c.extra_numel = int64_t{n} * k;
  auto labels_of = [n](const Vec& v) {
    std::vector<int32_t> l(n);
    for (int i = 0; i < n; ++i) l[i] = static_cast<int32_t>(v[i]);
    return l;
  };
  c.fwd = [=](const std::vector<Vec>& in, Vec& out) { out[0] = softmax_cross_entropy_forward(n, k, in[0].data(), labels_of(in[1]).data(), out.data() + 1); };
  c.bwd = [=](const std::vector<Vec>& in, const Vec& dout, std::vector<Vec>& g, GradMode mode) {
    Vec probs(size_t(n) * k);
    const std::vector<int32_t> labels = labels_of(in[1]);
    softmax_cross_entropy_forward(n, k, in[0].data(), labels.data(), probs.data());
    softmax_cross_entropy_backward(n, k, probs.data(), labels.data(), dout[0], g[0].data(), mode);
  };
  c.ref = [=](const std::vector<DVec>& in, DVec& out) {
    out.assign(1 + size_t(n) * k, 0.0);
    for (int b = 0; b < n; ++b) {
      const double* z = in[0].data() + size_t(b) * k;
      const double zmax = *std::max_element(z, z + k);
      double sum = 0.0;
      for (int j = 0; j < k; ++j) sum += std::exp(z[j] - zmax);
      const double lse = zmax + std::log(sum);
      out[0] += (lse - z[static_cast<int>(in[1][b])]) / n;
      for (int j = 0; j < k; ++j) out[1 + size_t(b) * k + j] = std::exp(z[j] - lse);
    }
  };
  return c;
}

// ---- the table ------------------------------------------------------------------------

std::vector<OpCase> MakeCases() {
  std::vector<OpCase> cases;
  // conv 3x3 pad 1, stride 1 and 2: odd / prime / tile-edge sizes.
  struct Geo {
    int n, h, w;
  };
  const Geo geos[] = {{1, 1, 1}, {2, 2, 3}, {1, 3, 5}, {3, 5, 2}, {2, 7, 7}, {1, 8, 8}, {3, 8, 5}, {1, 7, 1}};
  const int chans[][2] = {{1, 1}, {3, 5}, {5, 3}, {8, 8}, {17, 3}, {3, 17}, {1, 8}, {8, 17}};
  int i = 0;
  for (int stride : {1, 2})
    for (const Geo& g : geos) {
      for (int j = 0; j < 2; ++j) {
        const auto& ch = chans[(i * 3 + j * 5 + stride) % 8];
        cases.push_back(ConvCase(Conv3x3(g.n, g.h, g.w, ch[0], ch[1], stride), (i + j) % 2 == 0));
      }
      ++i;
    }
  cases.push_back(ConvCase(Conv3x3(2, 8, 8, 17, 17, 1), true, 24));
  cases.push_back(ConvCase(Conv3x3(3, 7, 8, 17, 8, 2), true, 24));
  // conv 1x1 (plain GEMM).
  i = 0;
  for (const Geo& g : geos) {
    for (int j = 0; j < 2; ++j) {
      const auto& ch = chans[(i * 3 + j * 5) % 8];
      cases.push_back(ConvCase(Conv1x1(g.n, g.h, g.w, ch[0], ch[1]), (i + j) % 3 != 0));
    }
    ++i;
  }
  // Real layer shapes at a small batch (sampled finite differences): K*K*Cin > the
  // SGEMM k block (256) and several im2col chunks.
  cases.push_back(ConvCase(Conv3x3(1, 12, 12, 32, 32, 1), true, 16));
  cases.push_back(ConvCase(Conv3x3(1, 24, 24, 16, 32, 2), true, 16));
  cases.push_back(ConvCase(Conv3x3(1, 23, 23, 3, 16, 2), false, 16));
  cases.push_back(ConvCase(Conv1x1(2, 12, 12, 32, 32), true, 16));
  // Other geometries the op accepts (1x1 stride 2 leaves input pixels no tap reaches).
  cases.push_back(ConvCase(Conv2dShape{2, 5, 7, 3, 5, 1, 2, 0}, true));
  cases.push_back(ConvCase(Conv2dShape{1, 8, 7, 5, 3, 3, 3, 1}, false));
  cases.push_back(ConvCase(Conv2dShape{2, 7, 8, 3, 8, 3, 2, 0}, true));
  // batchnorm2d, training and eval.
  const BatchNorm2dShape bns[] = {{1, 2, 3, 1}, {2, 1, 2, 3}, {3, 5, 7, 5}, {1, 8, 8, 17}, {2, 3, 3, 8}, {3, 7, 1, 3}, {2, 2, 2, 17}};
  for (const auto& s : bns) cases.push_back(BatchNormTrainCase(s));
  cases.push_back(BatchNormTrainCase({2, 24, 24, 16}, 16));
  for (const auto& s : bns) cases.push_back(BatchNormEvalCase(s));
  cases.push_back(BatchNormEvalCase({1, 1, 1, 1}));
  // elementwise and pooling.
  const int ew[][4] = {{1, 1, 1, 1}, {2, 3, 5, 3}, {3, 7, 7, 5}, {1, 8, 8, 17}, {2, 5, 2, 8}, {3, 2, 1, 17}};
  for (const auto& s : ew) {
    cases.push_back(ReluCase(s[0], s[1], s[2], s[3]));
    cases.push_back(Relu6Case(s[0], s[1], s[2], s[3], true));
    cases.push_back(Relu6Case(s[0], s[1], s[2], s[3], false));
    cases.push_back(AddCase(s[0], s[1], s[2], s[3]));
    cases.push_back(GapCase(s[0], s[1], s[2], s[3]));
  }
  // linear.
  const int lin[][3] = {{1, 1, 1}, {2, 3, 2}, {3, 5, 3}, {2, 8, 17}, {3, 17, 2}, {1, 32, 2}, {3, 17, 5}};
  for (int t = 0; t < 7; ++t) cases.push_back(LinearCase(lin[t][0], lin[t][1], lin[t][2], t % 3 != 1));
  cases.push_back(LinearCase(70, 33, 2, true));  // more than one row block
  // softmax cross-entropy, including large logits (log-sum-exp stability).
  const int ce[][2] = {{1, 1}, {1, 2}, {2, 2}, {3, 3}, {2, 5}, {3, 17}};
  for (const auto& s : ce) cases.push_back(CrossEntropyCase(s[0], s[1], -3.0, 3.0));
  cases.push_back(CrossEntropyCase(3, 5, 50.0, 100.0));
  cases.push_back(CrossEntropyCase(2, 3, -100.0, 100.0));
  return cases;
}

const std::vector<OpCase>& Cases() {
  static const std::vector<OpCase> cases = MakeCases();
  return cases;
}

// ---- harness --------------------------------------------------------------------------

uint32_t CaseSeed(const OpCase& c) {
  uint32_t h = personcls::testing::TestSeed();
  for (char ch : c.name) h = h * 16777619u ^ static_cast<uint8_t>(ch);
  return h;
}

std::vector<Vec> MakeInputs(const OpCase& c, std::mt19937& rng) {
  std::vector<Vec> in;
  for (const ArgSpec& a : c.args) {
    Vec v(static_cast<size_t>(a.numel));
    if (a.int_range > 0) {
      std::uniform_int_distribution<int> d(0, a.int_range - 1);
      for (float& x : v) x = static_cast<float>(d(rng));
    } else {
      std::uniform_real_distribution<double> d(a.lo, a.hi);
      for (float& x : v) x = static_cast<float>(d(rng));
    }
    in.push_back(std::move(v));
  }
  return in;
}

Vec RandomVec(int64_t n, std::mt19937& rng, float fill_lo = -1.0f, float fill_hi = 1.0f) {
  std::uniform_real_distribution<float> d(fill_lo, fill_hi);
  Vec v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<DVec> ToDouble(const std::vector<Vec>& in) {
  std::vector<DVec> out;
  for (const Vec& v : in) out.emplace_back(v.begin(), v.end());
  return out;
}

Vec RunForward(const OpCase& c, const std::vector<Vec>& in) {
  Vec out(static_cast<size_t>(c.out_numel + c.extra_numel), std::numeric_limits<float>::quiet_NaN());
  c.fwd(in, out);
  return out;
}

// Gradients in kOverwrite mode into NaN-filled buffers (so a read of the old contents shows).
std::vector<Vec> RunBackward(const OpCase& c, const std::vector<Vec>& in, const Vec& dout) {
  std::vector<Vec> g;
  for (const ArgSpec& a : c.args) g.emplace_back(a.grad ? static_cast<size_t>(a.numel) : 0, std::numeric_limits<float>::quiet_NaN());
  c.bwd(in, dout, g, GradMode::kOverwrite);
  return g;
}

std::vector<GemmKernel> Kernels() {
  std::vector<GemmKernel> k = {GemmKernel::kScalar};
  if (CpuSupportsAvx2Fma()) k.push_back(GemmKernel::kAvx2);
  return k;
}

// Tuning that makes every op split even tiny shapes into several parallel pieces.
Tuning SmallTuning() {
  Tuning t;
  t.parallel_min_elems = 0;
  t.elementwise_grain = 5;
  t.conv_rows_per_chunk = 7;
  t.reduce_rows_per_slot = 3;
  t.max_slots = 5;
  return t;
}

class OpsGrad : public ::testing::TestWithParam<OpCase> {
 protected:
  void SetUp() override {
    threads_ = omp_get_max_threads();
    SetTuning(Tuning{});
    SetGemmKernel(GemmKernel::kAuto);
  }
  void TearDown() override {
    omp_set_num_threads(threads_);
    SetTuning(Tuning{});
    SetGemmKernel(GemmKernel::kAuto);
  }
  int threads_ = 1;
};

TEST_P(OpsGrad, Forward) {
  const OpCase& c = GetParam();
  const uint32_t seed = CaseSeed(c);
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const std::vector<Vec> in = MakeInputs(c, rng);
  DVec ref;
  c.ref(ToDouble(in), ref);
  ASSERT_EQ(ref.size(), size_t(c.out_numel + c.extra_numel));
  for (GemmKernel k : Kernels()) {
    SetGemmKernel(k);
    SCOPED_TRACE(GemmKernelName(k));
    const Vec out = RunForward(c, in);
    int bad = 0;
    for (size_t i = 0; i < out.size() && bad < 5; ++i)
      if (!(std::fabs(out[i] - ref[i]) <= kFwdAbs + kFwdRel * std::fabs(ref[i]))) {
        ADD_FAILURE() << "output " << i << ": got " << out[i] << ", reference " << ref[i];
        ++bad;
      }
  }
}

TEST_P(OpsGrad, Gradients) {
  const OpCase& c = GetParam();
  const uint32_t seed = CaseSeed(c);
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const std::vector<Vec> in = MakeInputs(c, rng);
  const Vec dout = RandomVec(c.out_numel, rng);
  std::vector<DVec> din = ToDouble(in);
  auto loss = [&](const std::vector<DVec>& v) {
    DVec out;
    c.ref(v, out);
    double l = 0.0;
    for (int64_t i = 0; i < c.out_numel; ++i) l += double(dout[i]) * out[i];
    return l;
  };

  // Finite differences (double), once; then the analytic gradient of each kernel.
  struct Check {
    size_t arg;
    int64_t index;
    double fd;
  };
  std::vector<Check> checks;
  int skipped_kinks = 0;
  for (size_t a = 0; a < c.args.size(); ++a) {
    const ArgSpec& spec = c.args[a];
    if (!spec.grad) continue;
    std::vector<int64_t> idx(static_cast<size_t>(spec.numel));
    std::iota(idx.begin(), idx.end(), 0);
    if (spec.numel > c.fd_max) {
      std::shuffle(idx.begin(), idx.end(), rng);
      idx.resize(static_cast<size_t>(c.fd_max));
    }
    for (int64_t i : idx) {
      const double x0 = din[a][i];
      if (std::any_of(spec.kinks.begin(), spec.kinks.end(), [&](double k) { return std::fabs(x0 - k) < kKinkMargin; })) {
        ++skipped_kinks;
        continue;
      }
      din[a][i] = x0 + kFdStep;
      const double lp = loss(din);
      din[a][i] = x0 - kFdStep;
      const double lm = loss(din);
      din[a][i] = x0;
      checks.push_back({a, i, (lp - lm) / (2 * kFdStep)});
    }
  }
  ASSERT_FALSE(checks.empty());
  EXPECT_LE(skipped_kinks, int(checks.size()) / 10 + 2) << "too many points near kinks";

  for (GemmKernel k : Kernels()) {
    SetGemmKernel(k);
    SCOPED_TRACE(GemmKernelName(k));
    const std::vector<Vec> g = RunBackward(c, in, dout);
    for (size_t a = 0; a < c.args.size(); ++a)
      for (float v : g[a]) ASSERT_TRUE(std::isfinite(v)) << "non-finite gradient of " << c.args[a].name;
    int bad = 0;
    for (const Check& ch : checks) {
      const double got = g[ch.arg][ch.index];
      if (!(std::fabs(got - ch.fd) <= kGradAbs + kGradRel * std::fabs(ch.fd)) && bad++ < 5)
        ADD_FAILURE() << "d/d" << c.args[ch.arg].name << "[" << ch.index << "]: analytic " << got << ", finite difference " << ch.fd;
    }
  }
}

TEST_P(OpsGrad, Accumulate) {
  const OpCase& c = GetParam();
  const uint32_t seed = CaseSeed(c);
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const std::vector<Vec> in = MakeInputs(c, rng);
  const Vec dout = RandomVec(c.out_numel, rng);
  const std::vector<Vec> fresh = RunBackward(c, in, dout);
  std::vector<Vec> prior, acc;
  for (const ArgSpec& a : c.args) prior.push_back(a.grad ? RandomVec(a.numel, rng) : Vec{});
  acc = prior;
  c.bwd(in, dout, acc, GradMode::kAccumulate);
  for (size_t a = 0; a < c.args.size(); ++a)
    for (size_t i = 0; i < acc[a].size(); ++i) {
      const double want = double(prior[a][i]) + fresh[a][i];
      ASSERT_NEAR(acc[a][i], want, 1e-5 + 1e-5 * (std::fabs(prior[a][i]) + std::fabs(fresh[a][i]))) << c.args[a].name << "[" << i << "]";
    }
}

TEST_P(OpsGrad, ThreadsBitIdentical) {
  const OpCase& c = GetParam();
  const uint32_t seed = CaseSeed(c);
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const std::vector<Vec> in = MakeInputs(c, rng);
  const Vec dout = RandomVec(c.out_numel, rng);
  for (bool small : {false, true}) {
    SCOPED_TRACE(small ? "small tuning" : "default tuning");
    SetTuning(small ? SmallTuning() : Tuning{});
    omp_set_num_threads(1);
    const Vec out1 = RunForward(c, in);
    const std::vector<Vec> g1 = RunBackward(c, in, dout);
    omp_set_num_threads(2);
    const Vec out2 = RunForward(c, in);
    const std::vector<Vec> g2 = RunBackward(c, in, dout);
    ASSERT_EQ(out1.size(), out2.size());
    EXPECT_EQ(std::memcmp(out1.data(), out2.data(), out1.size() * sizeof(float)), 0) << "forward differs between 1 and 2 threads";
    for (size_t a = 0; a < g1.size(); ++a) {
      ASSERT_EQ(g1[a].size(), g2[a].size());
      if (!g1[a].empty()) {
        EXPECT_EQ(std::memcmp(g1[a].data(), g2[a].data(), g1[a].size() * sizeof(float)), 0) << "d" << c.args[a].name << " differs between 1 and 2 threads";
      }
    }
    if (small) {
      // The small pieces change the rounding of some sums, not the values.
      DVec ref;
      c.ref(ToDouble(in), ref);
      for (size_t i = 0; i < out2.size(); ++i) ASSERT_NEAR(out2[i], ref[i], kFwdAbs + kFwdRel * std::fabs(ref[i])) << "output " << i;
      SetTuning(Tuning{});
      const std::vector<Vec> gd = RunBackward(c, in, dout);
      for (size_t a = 0; a < g2.size(); ++a)
        for (size_t i = 0; i < g2[a].size(); ++i) ASSERT_NEAR(g2[a][i], gd[a][i], 1e-5 + 1e-5 * std::fabs(gd[a][i])) << c.args[a].name << "[" << i << "]";
    }
  }
}

std::string CaseName(const ::testing::TestParamInfo<OpCase>& info) {
  std::string s = info.param.name;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Table, OpsGrad, ::testing::ValuesIn(Cases()), CaseName);

// ---- checks outside the table ----------------------------------------------------------

TEST(OpsTable, CoversEveryOp) {
  std::set<std::string> seen;
  for (const OpCase& c : Cases()) seen.insert(c.name.substr(0, c.name.find('_')));
  for (const char* op : {"conv3x3", "conv1x1", "bn", "relu", "relu6", "add", "gap", "linear", "softmax"})
    EXPECT_TRUE(seen.count(op)) << "no case for " << op;
  std::set<std::string> names;
  for (const OpCase& c : Cases()) EXPECT_TRUE(names.insert(c.name).second) << "duplicate case " << c.name;
}

// SGEMM with every transpose combination, leading dimensions larger than the sizes and
// edge tiles, against a double product.
TEST(Sgemm, AllTransposesAndEdges) {
  const uint32_t seed = personcls::testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const int sizes[][3] = {{1, 1, 1}, {7, 17, 5}, {6, 16, 256}, {13, 33, 257}, {121, 3, 300}, {5, 513, 2}};
  for (GemmKernel kern : Kernels()) {
    SetGemmKernel(kern);
    for (const auto& s : sizes)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (int accumulate = 0; accumulate < 2; ++accumulate) {
            const int m = s[0], n = s[1], k = s[2];
            const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
            const Vec a = RandomVec(int64_t{ta ? k : m} * lda, rng), b = RandomVec(int64_t{tb ? n : k} * ldb, rng);
            Vec c = RandomVec(int64_t{m} * ldc, rng);
            const Vec c0 = c;
            sgemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
            for (int i = 0; i < m; ++i)
              for (int j = 0; j < ldc; ++j) {
                if (j >= n) {
                  ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "wrote past n";
                  continue;
                }
                double want = accumulate ? c0[i * ldc + j] : 0.0, mag = std::fabs(want);
                for (int p = 0; p < k; ++p) {
                  const double t = double(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                  want += t;
                  mag += std::fabs(t);
                }
                ASSERT_NEAR(c[i * ldc + j], want, 1e-6 * mag + 1e-7)
                    << GemmKernelName(kern) << " m" << m << " n" << n << " k" << k << " ta" << ta << " tb" << tb << " acc" << accumulate;
              }
          }
  }
  SetGemmKernel(GemmKernel::kAuto);
}

// PyTorch's masks exactly at the kinks: relu passes no gradient at 0, relu6 none at 0 or 6
// (hardtanh_backward zeroes v <= min and v >= max); NaN passes the gradient through.
TEST(Activations, BackwardAtKinksMatchesPyTorch) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Vec v = {-1.0f, 0.0f, 1e-7f, 3.0f, 5.9999995f, 6.0f, 7.0f, nan};
  const Vec dy(v.size(), 2.0f);
  Vec dx(v.size());
  relu_backward(int64_t(v.size()), v.data(), dy.data(), dx.data(), GradMode::kOverwrite);
  EXPECT_EQ(dx, (Vec{0, 0, 2, 2, 2, 2, 2, 2}));
  relu6_backward(int64_t(v.size()), v.data(), dy.data(), dx.data(), GradMode::kOverwrite);
  EXPECT_EQ(dx, (Vec{0, 0, 2, 2, 2, 0, 0, 2}));
  Vec y(v.size());
  relu6_forward(int64_t(v.size()), v.data(), y.data());
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[6], 6.0f);
  EXPECT_TRUE(std::isnan(y[7]));
  relu_forward(int64_t(v.size()), v.data(), y.data());
  EXPECT_TRUE(std::isnan(y[7]));
}

TEST(OpsErrors, RejectBadArguments) {
  const Vec x(4, 1.0f);
  Vec y(4), stat(1);
  const std::vector<int32_t> bad_label = {2};
  EXPECT_THROW(batchnorm2d_forward_train({1, 1, 1, 1}, x.data(), x.data(), x.data(), y.data(), stat.data(), stat.data(), nullptr, nullptr, nullptr),
               std::invalid_argument);
  EXPECT_THROW(softmax_cross_entropy_forward(1, 2, x.data(), bad_label.data(), nullptr), std::invalid_argument);
  EXPECT_THROW(conv2d_forward(Conv2dShape{1, 1, 1, 1, 1, 3, 1, 0}, x.data(), x.data(), nullptr, y.data()), std::invalid_argument);
}

TEST(Tensor, OwnsDataAndKnowsItsShape) {
  Tensor t({2, 3, 5}, 1.5f);
  EXPECT_EQ(t.numel(), 30);
  EXPECT_EQ(t.rank(), 3);
  EXPECT_EQ(t.dim(-1), 5);
  EXPECT_EQ(t[29], 1.5f);
  Tensor u = t;
  u[0] = 2.0f;
  EXPECT_EQ(t[0], 1.5f);  // copies own their data
  t.Reshape({6, 5});
  EXPECT_EQ(t.dim(0), 6);
  EXPECT_THROW(t.Reshape({7}), std::invalid_argument);
  EXPECT_THROW(t.dim(2), std::out_of_range);
  EXPECT_EQ(ShapeToString(t.shape), "[6, 5]");
}

}  // namespace
}  // namespace personcls::ops
