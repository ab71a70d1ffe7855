// The job the QEMU test driver (tests/mcu/mcu_check.cc) hands to the runner firmware: one
// blob, loaded by QEMU's generic loader at the board's PERSONCLS_MCU_JOB_ADDR, holding a
// model and input tensors. Little-endian; offsets from the start of the header; the model
// at a 16-byte aligned offset so it can be read in place.
#pragma once

#include <stdint.h>

namespace personcls::mcu {

constexpr char kJobMagic[8] = {'P', 'C', 'L', 'S', 'J', 'O', 'B', '1'};

enum JobFlags : uint32_t {
  kJobRunReference = 1u << 0,  // after the fast kernels, run the reference kernels on input 0
  kJobProfileOps = 1u << 1,    // print instructions per op (fast kernels, input 0)
};

struct JobHeader {
  char magic[8];
  uint32_t model_offset;
  uint32_t model_bytes;
  uint32_t input_offset;  // num_inputs tensors of input_bytes each, back to back
  uint32_t input_bytes;
  uint32_t num_inputs;
  uint32_t flags;
  uint32_t reserved[4];
};

}  // namespace personcls::mcu
