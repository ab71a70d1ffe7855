/* Start-up, semihosting, SysTick instruction counting, stack painting. See harness.h. */
#include "harness.h"

#include <string.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
int main(void);

/* ---- semihosting (Arm semihosting spec: BKPT 0xAB, op in r0, argument in r1) ------- */
enum { kSysWrite0 = 0x04, kSysExit = 0x18, kAdpStoppedApplicationExit = 0x20026, kAdpStoppedRunTimeError = 0x20023 };

static int semihost(int op, const void* arg) {
  register int r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void pcls_puts(const char* s) { semihost(kSysWrite0, s); }

void pcls_exit(int code) {
  /* On AArch32 SYS_EXIT takes the reason itself; QEMU exits 0 for ApplicationExit. */
  semihost(kSysExit, (const void*)(uintptr_t)(code == 0 ? kAdpStoppedApplicationExit : kAdpStoppedRunTimeError));
  for (;;) {
  }
}

/* ---- SysTick: a 24-bit down-counter; wraps are counted in its interrupt ----------- */
#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t*)0xE000ED04u)
#define SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t*)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t*)0xE000ED2Cu)

static volatile uint32_t g_wraps;

void SysTick_Handler(void) { ++g_wraps; }

void pcls_ticks_start(void) {
  SYST_CSR = 0;
  g_wraps = 0;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt, processor clock */
  /* The counter starts at 0 and reloads on its first tick; count from the reload. */
  while (SYST_CVR == 0) {
  }
  g_wraps = 0;
}

uint64_t pcls_ticks(void) {
  uint32_t w1, w2, v;
  do {
    w1 = g_wraps;
    v = SYST_CVR;
    w2 = g_wraps;
  } while (w1 != w2);
  /* A wrap whose interrupt is still pending has reloaded the counter already. */
  if ((SCB_ICSR & (1u << 26)) && v > 0x800000u) ++w1;
  return ((uint64_t)w1 << 24) + (0xFFFFFFu - v);
}

uint64_t pcls_calibration_ticks(uint32_t iterations) {
  const uint64_t t0 = pcls_ticks();
  __asm__ volatile(
      "1: subs %0, %0, #1\n"
      "   bne 1b\n"
      : "+r"(iterations)
      :
      : "cc");
  return pcls_ticks() - t0;
}

/* ---- stack high-water ------------------------------------------------------------ */
#define STACK_PATTERN 0x5AC0FFEEu

static const uint32_t* g_painted_from = 0;  /* the caller's stack pointer when painting */

void pcls_stack_paint(void) {
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  /* Everything below this function's own frame; its caller's frame is at or above sp. */
  for (uint32_t* p = __stack_limit; p < sp - 16; ++p) *p = STACK_PATTERN;
  g_painted_from = sp;
}

size_t pcls_stack_used(void) {
  const uint32_t* p = __stack_limit;
  while (p < g_painted_from && *p == STACK_PATTERN) ++p;
  return (size_t)((const uint8_t*)g_painted_from - (const uint8_t*)p);
}

size_t pcls_stack_size(void) { return (size_t)((const uint8_t*)__stack_top - (const uint8_t*)__stack_limit); }

/* ---- faults, start-up, vector table --------------------------------------------- */
static void put_hex(const char* label, uint32_t v) {
  char buf[32];
  static const char kHex[] = "0123456789abcdef";
  size_t n = strlen(label);
  memcpy(buf, label, n);
  for (int i = 7; i >= 0; --i) buf[n++] = kHex[(v >> (4 * i)) & 0xF];
  buf[n++] = '\n';
  buf[n] = '\0';
  pcls_puts(buf);
}

void Fault_Handler(void) {
  uint32_t* sp;
  __asm__ volatile("mrs %0, msp" : "=r"(sp));
  pcls_puts("FAULT\n");
  put_hex("CFSR 0x", SCB_CFSR);
  put_hex("HFSR 0x", SCB_HFSR);
  put_hex("PC   0x", sp[6]);
  pcls_exit(3);
}

void Default_Handler(void) {
  pcls_puts("unexpected interrupt\n");
  pcls_exit(4);
}

void Reset_Handler(void) {
  /* Floating point (and, on Armv8.1-M, MVE): full access to CP10 and CP11. */
  SCB_CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n isb" ::: "memory");
  memcpy(__data_start, __data_load, (size_t)((uint8_t*)__data_end - (uint8_t*)__data_start));
  memset(__bss_start, 0, (size_t)((uint8_t*)__bss_end - (uint8_t*)__bss_start));
  for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) (*f)();
  pcls_exit(main());
}

__attribute__((section(".vectors"), used)) static void (*const g_vectors[16 + 32])(void) = {
    (void (*)(void))__stack_top, /* initial SP */
    Reset_Handler,
    Default_Handler, /* NMI */
    Fault_Handler,   /* HardFault */
    Fault_Handler,   /* MemManage */
    Fault_Handler,   /* BusFault */
    Fault_Handler,   /* UsageFault */
    Fault_Handler,   /* SecureFault (Armv8-M) */
    0, 0, 0,
    Default_Handler, /* SVC */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
};
