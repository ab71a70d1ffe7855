// The runner firmware: runs the model of the job at PERSONCLS_MCU_JOB_ADDR on each of its
// inputs with the MicroInterpreter and prints, through semihosting, what the host driver
// compares (every output byte) and measures (SysTick ticks per inference, memory, stack).
// Output lines (one per event, space-separated, parsed by tests/mcu/mcu_check.cc):
//   calibration <iterations> <ticks>
//   init <fast|ref> ok arena <bytes> prepared <bytes> stack <bytes> ticks <ticks>
//   init <fast|ref> error <message>
//   op <k> <OP_TYPE> <kernel> <macs> <ticks>   (fast kernels, input 0)
//   run <fast|ref> <input> ticks <ticks> stack <bytes> out <hex bytes of output 0>
//   done
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "harness.h"
#include "job.h"
#include "personcls/micro_interpreter.h"

namespace {

using personcls::MicroInterpreter;
using personcls::MicroKernels;
using personcls::mcu::JobHeader;

constexpr size_t kArenaBytes = 384 * 1024;
constexpr size_t kPreparedBytes = 32 * 1024;
alignas(16) uint8_t g_arena[kArenaBytes];
alignas(16) uint8_t g_prepared[kPreparedBytes];

void Print(const char* format, ...) __attribute__((format(printf, 1, 2)));
void Print(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  pcls_puts(line);
}

// Long output lines go out in pieces (SYS_WRITE0 takes any length; the buffer does not).
void PrintHex(const uint8_t* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  char chunk[257];
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    chunk[used++] = kHex[p[i] >> 4];
    chunk[used++] = kHex[p[i] & 15];
    if (used == 256) {
      chunk[used] = '\0';
      pcls_puts(chunk);
      used = 0;
    }
  }
  chunk[used] = '\0';
  pcls_puts(chunk);
}

// Ticks fit 32 bits for anything this firmware runs (2^32 ticks are minutes of QEMU time),
// and newlib-nano's printf has no long long.
unsigned long Ticks() { return static_cast<unsigned long>(pcls_ticks()); }

// Ticks per op of one Invoke.
class OpTicks final : public personcls::MicroProfiler {
 public:
  void BeginOp(int) override { start_ = Ticks(); }
  void EndOp(int op) override {
    if (op < kMaxOps) ticks_[op] = Ticks() - start_;
  }
  unsigned long ticks(int op) const { return op < kMaxOps ? ticks_[op] : 0; }

 private:
  static constexpr int kMaxOps = 256;
  unsigned long start_ = 0;
  unsigned long ticks_[kMaxOps] = {};
};

bool RunAll(const JobHeader& job, MicroKernels kernels, uint32_t num_inputs) {
  const char* kname = kernels == MicroKernels::kFast ? "fast" : "ref";
  const auto* base = reinterpret_cast<const uint8_t*>(&job);
  static MicroInterpreter interpreter;  // its error text is 240 bytes: keep it off the stack
  pcls_stack_paint();
  const unsigned long t0 = Ticks();
  const bool ok = interpreter.Init(base + job.model_offset, job.model_bytes, g_arena, kArenaBytes, g_prepared, kPreparedBytes, kernels);
  const unsigned long init_ticks = Ticks() - t0;
  if (!ok) {
    Print("init %s error %s\n", kname, interpreter.error());
    return false;
  }
  Print("init %s ok arena %lu prepared %lu stack %lu ticks %lu\n", kname, static_cast<unsigned long>(interpreter.arena_used()),
        static_cast<unsigned long>(interpreter.prepared_used()), static_cast<unsigned long>(pcls_stack_used()), init_ticks);
  const personcls::MicroTensor in = interpreter.input(0);
  if (in.bytes != job.input_bytes) {
    Print("init %s error input tensor has %lu bytes, the job's inputs %lu\n", kname, static_cast<unsigned long>(in.bytes),
          static_cast<unsigned long>(job.input_bytes));
    return false;
  }
  for (uint32_t i = 0; i < num_inputs; ++i) {
    std::memcpy(in.data, base + job.input_offset + static_cast<size_t>(i) * job.input_bytes, job.input_bytes);
    pcls_stack_paint();
    const unsigned long start = Ticks();
    interpreter.Invoke();
    const unsigned long ticks = Ticks() - start;
    const personcls::MicroTensor out = interpreter.output(0);
    Print("run %s %lu ticks %lu stack %lu out ", kname, static_cast<unsigned long>(i), ticks, static_cast<unsigned long>(pcls_stack_used()));
    PrintHex(static_cast<const uint8_t*>(out.data), out.bytes);
    pcls_puts("\n");
  }
  if (kernels == MicroKernels::kFast) {
    // Per op: one more run of input 0 with the profiler (its own ticks are not counted).
    static OpTicks profile;
    std::memcpy(in.data, base + job.input_offset, job.input_bytes);
    interpreter.Invoke(&profile);
    for (int k = 0; k < interpreter.num_ops(); ++k)
      Print("op %d %s %s %ld %lu\n", k, personcls::OpTypeName(interpreter.op_type(k)), interpreter.kernel_name(k),
            static_cast<long>(interpreter.op_macs(k)), profile.ticks(k));
  }
  return true;
}

}  // namespace

int main() {
  pcls_ticks_start();
  constexpr uint32_t kCalibration = 1000000;
  Print("calibration %lu %lu\n", static_cast<unsigned long>(kCalibration), static_cast<unsigned long>(pcls_calibration_ticks(kCalibration)));
  const auto& job = *reinterpret_cast<const JobHeader*>(PERSONCLS_MCU_JOB_ADDR);
  if (std::memcmp(job.magic, personcls::mcu::kJobMagic, sizeof(job.magic)) != 0) {
    pcls_puts("error no job at the job address (load one with -device loader)\n");
    return 2;
  }
  if (!RunAll(job, MicroKernels::kFast, job.num_inputs)) return 1;
  if ((job.flags & personcls::mcu::kJobRunReference) && !RunAll(job, MicroKernels::kReference, 1)) return 1;
  pcls_puts("done\n");
  return 0;
}
