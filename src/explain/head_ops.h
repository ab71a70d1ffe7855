// Forward and backward rules, in double, for the float32 ops a classifier head has after
// its last spatial feature map: MEAN, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED, 1x1
// CONV_2D (stride 1), SOFTMAX, LOGISTIC; fused NONE/RELU/RELU6. Shapes and constants come
// from the Graph (NHWC activations, FC weights [units, depth], conv filters [O,1,1,I]).
// Used by Grad-CAM (explain/gradcam.h); small and plain rather than fast.
#pragma once

#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls::explain {

// Ok when Forward/Backward below support `op` of `graph`, else why not (one line).
Status CheckHeadOp(const Graph& graph, const OpDesc& op);

struct HeadOpValues {
  std::vector<double> pre;  // before the fused activation (== out when there is none)
  std::vector<double> out;
};

// `in`: values of op.inputs[0] (its tensor's element count). Asserts CheckHeadOp passed.
HeadOpValues HeadOpForward(const Graph& graph, const OpDesc& op, const std::vector<double>& in);

// d loss / d in, given d loss / d out and the values Forward produced for `in`.
std::vector<double> HeadOpBackward(const Graph& graph, const OpDesc& op, const std::vector<double>& in, const HeadOpValues& values,
                                   const std::vector<double>& d_out);

}  // namespace personcls::explain
