// The example firmware: classifies the frames a "camera" delivers and prints each
// decision. On QEMU the camera is memory: the test driver (tests/mcu/mcu_check.cc
// --example) loads raw 96x96 RGB frames at the board's job address, after a header
// (mcu/runner/job.h). On a board, take frames from your camera driver instead.
#include <cstdio>
#include <cstring>

#include "harness.h"
#include "person_detector.h"
#include "../../mcu/runner/job.h"

namespace {

PersonDetector g_detector;  // static: its arena is RAM in .bss, not stack

void Print(const char* text) { pcls_puts(text); }

}  // namespace

int main() {
  if (!g_detector.Init()) {
    Print("error ");
    Print(g_detector.error()[0] ? g_detector.error() : "unsupported model input/output");
    Print("\n");
    return 1;
  }
  char line[160];
  std::snprintf(line, sizeof(line), "ready %dx%d arena %lu prepared %lu\n", g_detector.width(), g_detector.height(),
                static_cast<unsigned long>(g_detector.interpreter().arena_used()),
                static_cast<unsigned long>(g_detector.interpreter().prepared_used()));
  Print(line);

  const auto& job = *reinterpret_cast<const personcls::mcu::JobHeader*>(PERSONCLS_MCU_JOB_ADDR);
  const size_t frame_bytes = static_cast<size_t>(g_detector.width()) * g_detector.height() * 3;
  if (std::memcmp(job.magic, personcls::mcu::kJobMagic, sizeof(job.magic)) != 0 || job.input_bytes != frame_bytes) {
    Print("error no frames at the camera address\n");
    return 2;
  }
  const auto* frames = reinterpret_cast<const uint8_t*>(&job) + job.input_offset;
  for (uint32_t i = 0; i < job.num_inputs; ++i) {
    const PersonDetector::Decision d = g_detector.Classify(frames + i * frame_bytes);
    std::snprintf(line, sizeof(line), "decision %lu %d %d %s\n", static_cast<unsigned long>(i), d.person ? 1 : 0, d.score, d.label);
    Print(line);
  }
  Print("done\n");
  return 0;
}
