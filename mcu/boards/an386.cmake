# Arm MPS2 with the AN386 FPGA image: Cortex-M4 (Armv7E-M, DSP extension, single-precision
# FPU) at 25 MHz. In QEMU (-machine mps2-an386): 4 MB ZBT SSRAM1 at 0x0 used as code
# memory ("flash"), 4 MB ZBT SSRAM2/3 at 0x20000000 as RAM, 16 MB PSRAM at 0x21000000
# where the test driver loads its job (model and inputs).
set(PERSONCLS_MCU_CPU_FLAGS -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
set(PERSONCLS_MCU_QEMU_MACHINE mps2-an386)
set(PERSONCLS_MCU_JOB_ADDR 0x21000000)
# SysTick runs on the 25 MHz CPU clock; under -icount shift=0 one guest instruction takes
# 1 ns, so one tick is 40 instructions (the firmware checks this by calibration).
set(PERSONCLS_MCU_SYSTICK_HZ 25000000)
