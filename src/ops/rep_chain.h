// The 1x1 chain of a RepConv1x1 block in train mode (batch-statistics BatchNorm), fused:
// forward and backward of everything between the 3x3 conv's output and the block's ReLU
// output, in a few passes over memory instead of one pass per op.
//
// Shapes: every activation is [rows = N*H*W, C] (NHWC); conv weights [C, C] (1x1 OHWI =
// [out, in]); biases and BN tensors [C]. depth = number of 1x1 branches (6 in SSCMA).
//
// Forward (the same arithmetic as the unfused ops, PyTorch's module order):
//   x[0]   = n3(c3out)                                   (conv3x3.norm)
//   d      = dense(x[0])                                 (dense_norm; never stored)
//   z[i]   = x[i] * w[i]^T + b[i]                        (conv.{i}.conv)
//   x[i+1] = bn1[i](z[i]) + (id[i](x[i]) + (i > 0 ? d : 0))   (conv.{i}.norm, norm.{i})
//   x[depth] is stored after ReLU (the block's output).
// Every BN normalizes with the batch mean and biased variance, writes save_mean /
// save_invstd and updates its running statistics and num_batches_tracked exactly as
// batchnorm2d_forward_train does (ops/batchnorm2d.h).
//
// Why it is faster: a pass over [rows, C] reads and writes DRAM-sized tensors (19 MB for
// mbv2-rep-0.35 layer1 at batch 128), and the unfused chain makes about 100 such passes per
// block and step. Here rows are cut into chunks that stay in L2; one pass per branch
// computes x[i+1], its statistics, z[i+1] (GEMM on the chunk) and z's statistics. BN
// statistics are one-pass sums of x and x^2 in double (per chunk, then added in chunk
// order); the unfused op uses two passes (mean, then squared deviations), so the two
// differ in the last float bits only.
//
// Backward: dout (the gradient of the ReLU output) -> dc3out, and every parameter gradient
// (dw, db of the convs; dgamma, dbeta of all BNs), all OVERWRITTEN.
//
// Determinism: chunk boundaries depend only on rows and C; every chunk is computed by one
// thread; per-chunk partial sums are added in chunk order. Results are bit-identical for
// any thread count.
#pragma once

#include <cstdint>

#include "ops/ops_common.h"

namespace personcls::ops {

// One BatchNorm2d (all [C]).
struct BnRef {
  const float* gamma = nullptr;
  const float* beta = nullptr;
  float* running_mean = nullptr;  // updated by the forward pass
  float* running_var = nullptr;
  int64_t* num_batches_tracked = nullptr;
  float* save_mean = nullptr;  // written by the forward pass, read by the backward pass
  float* save_invstd = nullptr;
  float* dgamma = nullptr;  // overwritten by the backward pass
  float* dbeta = nullptr;
};

// One 1x1 conv with bias: w [C, C] ([out, in]), b [C]; dw, db overwritten by backward.
struct Conv1x1Ref {
  const float* w = nullptr;
  const float* b = nullptr;
  float* dw = nullptr;
  float* db = nullptr;
};

// The parameters of one chain; the arrays have `depth` entries and are owned by the caller.
struct RepChain {
  int64_t rows = 0;  // N * H * W (>= 2)
  int c = 0;
  int depth = 0;
  BnRef n3, dense;
  const BnRef* id = nullptr;
  const BnRef* bn1 = nullptr;
  const Conv1x1Ref* conv = nullptr;
  float momentum = 0.1f, eps = 1e-5f;
};

// c3out [rows, C] -> x[0..depth] and z[0..depth) (caller-owned [rows, C] buffers; x[depth]
// holds the ReLU output). ws: scratch (nullptr: ThreadWorkspace()).
void rep_chain_forward_train(const RepChain& p, const float* c3out, float* const* x, float* const* z, Workspace* ws = nullptr);

// Gradients given dout [rows, C] (of x[depth]) and the tensors of the last forward:
// dc3out [rows, C] is overwritten; c3_bias_grad [C] (may be nullptr) = the column sums of
// dc3out, i.e. the 3x3 conv's bias gradient, taken in the same pass (double per chunk).
// g0, g1, dd: caller-owned [rows, C] scratch (contents unspecified on return). dc3out may
// alias dout, but not the scratch buffers.
void rep_chain_backward_train(const RepChain& p, const float* c3out, const float* const* x, const float* const* z, const float* dout, float* dc3out,
                              float* c3_bias_grad, float* g0, float* g1, float* dd, Workspace* ws = nullptr);

}  // namespace personcls::ops
