// Reference kernels: plain loop nests that define what every op computes (TFLite's
// reference semantics). They are deliberately simple and single-threaded; fast kernels in
// src/runtime/x86/ are tested bit-exact (int8) or within 1e-5 relative (float32) against
// them. Shapes in comments: N batch, H/W spatial, C channels, M depth multiplier.
#pragma once

#include <cstdint>

#include "runtime/kernel_params.h"

namespace personcls::ref {

// CONV_2D. input [N,H,W,Cin], filter [Cout,Kh,Kw,Cin], bias [Cout] (may be null),
// output [N,Ho,Wo,Cout].
void s8_conv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* input, const int8_t* filter, const int32_t* bias,
               int8_t* output);
void f32_conv2d(const ConvGeometry& g, F32Clamp clamp, const float* input, const float* filter, const float* bias, float* output);

// DEPTHWISE_CONV_2D. input [N,H,W,C], filter [1,Kh,Kw,C*M], bias [C*M], output [N,Ho,Wo,C*M].
void s8_dwconv2d(const ConvGeometry& g, const S8Requant& q, const int8_t* input, const int8_t* filter, const int32_t* bias,
                 int8_t* output);
void f32_dwconv2d(const ConvGeometry& g, F32Clamp clamp, const float* input, const float* filter, const float* bias,
                  float* output);

// FULLY_CONNECTED. input [batch, depth], weights [units, depth], bias [units] (may be null).
void s8_fully_connected(int batch, int depth, int units, const S8Requant& q, const int8_t* input, const int8_t* weights,
                        const int32_t* bias, int8_t* output);
void f32_fully_connected(int batch, int depth, int units, F32Clamp clamp, const float* input, const float* weights,
                         const float* bias, float* output);

// AVERAGE_POOL_2D / MAX_POOL_2D over [N,H,W,C] (in_c == out_c). Average divides by the
// number of in-bounds taps. Returns false when a window has no in-bounds tap.
bool s8_avgpool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output);
bool f32_avgpool2d(const ConvGeometry& g, F32Clamp clamp, const float* input, float* output);
void s8_maxpool2d(const ConvGeometry& g, int32_t act_min, int32_t act_max, const int8_t* input, int8_t* output);
void f32_maxpool2d(const ConvGeometry& g, F32Clamp clamp, const float* input, float* output);

// PAD of a tensor of up to 4 dims (NHWC); `before`/`after` per dim; fills with pad_value.
struct PadGeometry {
  int in_shape[4];
  int before[4];
  int after[4];
};
void pad(const PadGeometry& g, int element_size, const void* pad_value, const void* input, void* output);

// MEAN over the axes flagged in reduce[4] of a [d0,d1,d2,d3] tensor (lower ranks are
// padded with leading 1s). int8: sum in int32, then the integer requantization below.
struct MeanGeometry {
  int shape[4];
  bool reduce[4];
};
struct S8MeanParams {
  int32_t input_zp = 0, output_zp = 0;
  int32_t multiplier = 0;  // input_scale / output_scale as Q31
  int shift = 0;
};
// `sums` is scratch for one int32 per output element.
void s8_mean(const MeanGeometry& g, const S8MeanParams& p, const int8_t* input, int32_t* sums, int8_t* output);
void f32_mean(const MeanGeometry& g, const float* input, float* output);

// SOFTMAX over the last dimension (rows of `depth` values).
struct S8SoftmaxParams {
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
  int32_t diff_min = 0;
};
void s8_softmax(int rows, int depth, const S8SoftmaxParams& p, const int8_t* input, int8_t* output);
void f32_softmax(int rows, int depth, float beta, const float* input, float* output);

// LOGISTIC, elementwise.
struct S8LogisticParams {
  int32_t input_zero_point = 0;
  int32_t input_range_radius = 0;
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
};
void s8_logistic(int64_t size, const S8LogisticParams& p, const int8_t* input, int8_t* output);
void f32_logistic(int64_t size, const float* input, float* output);

// ADD of two tensors broadcast to a 4-D output shape (stride 0 on broadcast dims).
struct BroadcastGeometry {
  int out_shape[4];
  int64_t a_strides[4];
  int64_t b_strides[4];
};
struct S8AddParams {
  int left_shift = 20;
  int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
  int32_t input1_multiplier = 0, input2_multiplier = 0, output_multiplier = 0;
  int input1_shift = 0, input2_shift = 0, output_shift = 0;
  int32_t act_min = -128, act_max = 127;
};
void s8_add(const BroadcastGeometry& g, const S8AddParams& p, const int8_t* a, const int8_t* b, int8_t* output);
void f32_add(const BroadcastGeometry& g, F32Clamp clamp, const float* a, const float* b, float* output);

// QUANTIZE / DEQUANTIZE / int8 requantize, elementwise.
void f32_to_s8_quantize(int64_t size, float scale, int32_t zero_point, const float* input, int8_t* output);
void s8_to_f32_dequantize(int64_t size, double scale, int32_t zero_point, const int8_t* input, float* output);
void s8_requantize(int64_t size, int32_t input_zp, int32_t output_zp, int32_t multiplier, int shift, const int8_t* input,
                   int8_t* output);

}  // namespace personcls::ref
