// pad_rows: PAD by whole rows (the fast kernel of the PAD op when it cannot be folded into
// a convolution, runtime/pad_folding.h). Same result as ref::pad, byte for byte: every
// output row of the innermost dimension is a run of pad values, a memcpy of the input row
// and another run of pad values, instead of one memcpy per element.
#pragma once

#include "runtime/ref/ref_kernels.h"

namespace personcls::host {

void pad_rows(const ref::PadGeometry& g, int element_size, const void* pad_value, const void* input, void* output);

}  // namespace personcls::host
