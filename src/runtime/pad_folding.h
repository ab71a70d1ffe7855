// Folding an explicit PAD into the convolution that reads it (fast kernels only).
//
// TFLite models pad before a stride-2 VALID convolution with an explicit PAD op
// (the default model has three). Copying the padded tensor costs more than the
// convolution that reads it, and its output is the largest tensor alive at that point. A
// convolution can read the unpadded tensor instead and treat the pad as its own
// padding: for int8 the PAD's value is the output zero point, i.e. the convolution's input
// zero point, which contributes w * (zp - zp) = 0, exactly as a tap the reference skips;
// for float32 the value is 0. So int8 results are bit-identical, float32 results equal up
// to the sign of a zero sum.
//
// A PAD is folded when it pads only height and width of a rank-4 int8/float32 tensor, its
// output is not a graph output and is read by exactly one op, as input 0 of a CONV_2D or
// DEPTHWISE_CONV_2D with VALID padding. Anything else keeps its PAD kernel.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "personcls/graph.h"
#include "runtime/kernel.h"

namespace personcls {

// The ops as the Interpreter runs them, one per graph op in the same order.
struct FoldedOps {
  std::vector<OpDesc> ops;                // graph ops; a folded PAD has no inputs and outputs,
                                          // its reader reads the PAD's input instead
  std::vector<char> folded;               // per op: a PAD folded into its reader
  std::vector<std::optional<ExplicitPadding>> padding;  // per op: a PAD's padding folded into input 0
};

// `fold` false: the graph's ops unchanged (reference kernels run the graph as written).
FoldedOps FoldPads(const Graph& graph, bool fold);

// The kernel of a folded PAD: prepares and runs nothing ("pad_folded").
std::unique_ptr<Kernel> MakeFoldedPadKernel();

}  // namespace personcls
