// All fp32 training ops (forward + backward) of personcls, NHWC / OHWI conventions.
// See ops_common.h for gradient modes, workspaces and threading.
#pragma once

#include "ops/add.h"
#include "ops/batchnorm2d.h"
#include "ops/conv2d.h"
#include "ops/gemm.h"
#include "ops/global_avg_pool.h"
#include "ops/linear.h"
#include "ops/ops_common.h"
#include "ops/relu.h"
#include "ops/relu6.h"
#include "ops/softmax_cross_entropy.h"
