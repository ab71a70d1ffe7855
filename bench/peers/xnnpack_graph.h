// Builds an XNNPACK subgraph and runtime from a personcls Graph, so that the side-by-side
// benchmark (bench/peers/) runs XNNPACK on exactly the weights personcls runs.
//
// Every personcls op maps to its XNNPACK node (CONV_2D, DEPTHWISE_CONV_2D, PAD, MEAN over
// H and W as global average pooling, AVERAGE/MAX_POOL_2D, RESHAPE, FULLY_CONNECTED,
// SOFTMAX, LOGISTIC, ADD, QUANTIZE/DEQUANTIZE as convert). int8 tensors are XNNPACK qint8,
// per-channel int8 weights qcint8 with qcint32 biases. An int8 op this XNNPACK build does
// not implement (in the Debian 2022 build: softmax, sigmoid, pooling) runs in float32
// between two convert nodes, which is what an XNNPACK user would have to do. XNNPACK
// itself folds a PAD into the convolution after it (subgraph fusion), as personcls does.
#pragma once

#include <pthreadpool.h>
#include <xnnpack.h>

#include <memory>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls::peers {

// One XNNPACK runtime for a Graph with one input and one output. The Graph must outlive it
// (XNNPACK reads static weights from the Graph's storage when the runtime is created).
class XnnpackModel {
 public:
  // threads > 1: a pthreadpool of that many threads, else none (the calling thread).
  static Expected<std::unique_ptr<XnnpackModel>> Create(std::shared_ptr<const Graph> graph, int threads);
  ~XnnpackModel();

  // Input and output buffers in the Graph's layout and type (NHWC, int8 or float32).
  void* input() { return input_.get(); }
  const void* output() const { return output_.get(); }
  void Invoke();
  // Nodes that ran in float32 between converts because XNNPACK lacks their int8 version.
  const std::string& notes() const { return notes_; }

 private:
  XnnpackModel() = default;
  std::shared_ptr<const Graph> graph_;
  xnn_subgraph_t subgraph_ = nullptr;
  xnn_runtime_t runtime_ = nullptr;
  pthreadpool_t pool_ = nullptr;
  std::unique_ptr<uint8_t[]> input_, output_;
  std::vector<std::vector<float>> scales_;  // channelwise scales, kept for the runtime's lifetime
  std::string notes_;
};

}  // namespace personcls::peers
