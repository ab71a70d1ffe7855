// PAD: pads a tensor of rank <= 4 with zero (float) or the output zero point (int8).
#include <cstring>

#include "runtime/kernel.h"
#include "runtime/ref/ref_kernels.h"

namespace personcls {
namespace {

struct PadData {
  ref::PadGeometry g{};
  int element_size = 1;
  uint8_t pad_value[8] = {};
  // The row-copy variant: trailing dimensions without padding merged into one element of
  // row_element bytes, so every output row is fill | input row | fill.
  bool rows = false;
  ref::PadGeometry merged{};
  int row_element = 1;
};

// Fast PAD, bit-identical to ref::pad: memcpy of whole input rows, memset of the padding
// (the pad value's bytes are all equal: 0.0f, or an int8 zero point).
void PadRows(const PadData& p, const void* input, void* output) {
  const ref::PadGeometry& g = p.merged;
  int out[4];
  for (int d = 0; d < 4; ++d) out[d] = g.before[d] + g.in_shape[d] + g.after[d];
  const size_t e = static_cast<size_t>(p.row_element);
  const auto* in = static_cast<const uint8_t*>(input);
  auto* dst = static_cast<uint8_t*>(output);
  const uint8_t fill = p.pad_value[0];
  const size_t row_bytes = static_cast<size_t>(out[3]) * e;
  for (int a = 0; a < out[0]; ++a) {
    const int ia = a - g.before[0];
    for (int b = 0; b < out[1]; ++b) {
      const int ib = b - g.before[1];
      for (int c = 0; c < out[2]; ++c, dst += row_bytes) {
        const int ic = c - g.before[2];
        if (ia < 0 || ia >= g.in_shape[0] || ib < 0 || ib >= g.in_shape[1] || ic < 0 || ic >= g.in_shape[2]) {
          std::memset(dst, fill, row_bytes);
          continue;
        }
        const size_t row = (static_cast<size_t>(ia) * g.in_shape[1] + ib) * g.in_shape[2] + ic;
        std::memset(dst, fill, g.before[3] * e);
        std::memcpy(dst + g.before[3] * e, in + row * g.in_shape[3] * e, g.in_shape[3] * e);
        std::memset(dst + (g.before[3] + g.in_shape[3]) * e, fill, g.after[3] * e);
      }
    }
  }
}

// Merges trailing dimensions that have no padding into the element (row-copy variant).
void PrepareRows(PadData& p) {
  p.merged = p.g;
  p.row_element = p.element_size;
  int d = 3;
  while (d > 0 && p.merged.before[d] == 0 && p.merged.after[d] == 0) {
    p.row_element *= p.merged.in_shape[d];
    for (int i = d; i > 0; --i) {
      p.merged.in_shape[i] = p.merged.in_shape[i - 1];
      p.merged.before[i] = p.merged.before[i - 1];
      p.merged.after[i] = p.merged.after[i - 1];
    }
    p.merged.in_shape[0] = 1;
    p.merged.before[0] = p.merged.after[0] = 0;
    --d;
  }
  bool uniform = true;
  for (int i = 1; i < p.element_size; ++i) uniform = uniform && p.pad_value[i] == p.pad_value[0];
  p.rows = uniform;
}

bool PreparePad(PrepareContext& ctx, Diag& d) {
  if (!ExpectInputs(ctx, 2, 2, d)) return false;
  const TensorView& input = *ctx.input(0);
  const TensorView& paddings = *ctx.input(1);
  const TensorView& output = ctx.output(0);
  const int rank = input.rank;
  if (rank < 1 || rank > 4) return d.Fail("input rank must be 1..4, has shape %s", input.shape_text().c_str());
  if (!paddings.is_constant()) return d.Fail("paddings must be constant");
  if (!ExpectType(paddings, DType::kInt32, "paddings", d)) return false;
  if (paddings.rank != 2 || paddings.dims[0] != rank || paddings.dims[1] != 2)
    return d.Fail("paddings shape %s must be [%d,2]", paddings.shape_text().c_str(), rank);
  if (!ExpectType(output, input.dtype, "output", d)) return false;
  if (output.rank != rank) return d.Fail("output rank differs from input rank");
  auto* data = ctx.CreateOpData<PadData>(d);
  if (!data) return false;
  ref::PadGeometry& g = data->g;
  const int32_t* pads = paddings.constant<int32_t>();
  const int lead = 4 - rank;  // left-extend to 4-D
  for (int i = 0; i < 4; ++i) {
    g.in_shape[i] = i < lead ? 1 : input.dims[i - lead];
    g.before[i] = i < lead ? 0 : pads[(i - lead) * 2];
    g.after[i] = i < lead ? 0 : pads[(i - lead) * 2 + 1];
    if (g.before[i] < 0 || g.after[i] < 0 || g.before[i] > 4096 || g.after[i] > 4096) return d.Fail("padding values must be in 0..4096");
    if (i >= lead && output.dims[i - lead] != g.before[i] + g.in_shape[i] + g.after[i])
      return d.Fail("output shape %s disagrees with paddings", output.shape_text().c_str());
  }
  data->element_size = static_cast<int>(DTypeSize(input.dtype));
  if (input.dtype == DType::kInt8) {
    if (!ExpectPerTensorQuant(output, "output", d)) return false;
    if (!input.SameQuantization(output)) return d.Fail("int8 PAD needs equal input and output quantization");
    data->pad_value[0] = static_cast<uint8_t>(static_cast<int8_t>(output.zero_point()));
  } else if (input.dtype != DType::kFloat32) {
    return d.Fail("input type %s not supported", DTypeName(input.dtype));
  }
  const bool s8 = input.dtype == DType::kInt8;
  ctx.kernel_name = s8 ? "s8_pad_ref" : "f32_pad_ref";
  if (ctx.use_fast) {
    PrepareRows(*data);
    if (data->rows) ctx.kernel_name = s8 ? "s8_pad_rows" : "f32_pad_rows";
  }
  return true;
}

void EvalPad(const void* op_data, const EvalContext& e) {
  const auto& p = *static_cast<const PadData*>(op_data);
  if (p.rows) return PadRows(p, e.inputs[0], e.outputs[0]);
  ref::pad(p.g, p.element_size, p.pad_value, e.inputs[0], e.outputs[0]);
}

}  // namespace

extern const OpKernel kPadKernel{PreparePad, EvalPad};

}  // namespace personcls
