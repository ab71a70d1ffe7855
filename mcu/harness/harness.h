/* The personcls bare-metal harness for QEMU's Arm boards: start-up, semihosting output
   and exit, a guest-instruction counter on SysTick, and stack high-water measurement.
   C, so that the firmware example (C or C++) can use it too. */
#ifndef PERSONCLS_MCU_HARNESS_H_
#define PERSONCLS_MCU_HARNESS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a NUL-terminated string to the host's stdout (semihosting SYS_WRITE0). */
void pcls_puts(const char* s);
/* Ends the program: QEMU exits with status 0 (code 0) or 1 (any other code). */
void pcls_exit(int code) __attribute__((noreturn));

/* SysTick ticks since pcls_ticks_start(), on the CPU clock (PERSONCLS_MCU_SYSTICK_HZ).
   Under QEMU -icount shift=0 every guest instruction takes 1 ns, so
   instructions = ticks * 1e9 / PERSONCLS_MCU_SYSTICK_HZ. */
void pcls_ticks_start(void);
uint64_t pcls_ticks(void);
/* Runs a loop of exactly `iterations` * 2 + a few instructions and returns its ticks
   (to check the instructions-per-tick ratio). */
uint64_t pcls_calibration_ticks(uint32_t iterations);

/* Fills the unused part of the stack (below the caller's frame) with a pattern;
   pcls_stack_used() then gives the deepest stack use since, in bytes below the stack
   pointer at the time of painting: what the calls made after painting needed (within
   a few bytes of pcls_stack_paint's own frame). */
void pcls_stack_paint(void);
size_t pcls_stack_used(void);
size_t pcls_stack_size(void);

#ifdef __cplusplus
}
#endif

#endif /* PERSONCLS_MCU_HARNESS_H_ */
