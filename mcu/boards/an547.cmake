# Arm MPS3 with the AN547 FPGA image: Cortex-M55 (Armv8.1-M, MVE/Helium with
# floating point, DSP extension) in the SSE-300 subsystem at 32 MHz. In QEMU
# (-machine mps3-an547) it starts in Secure state: code in the 512 KB ITCM (secure alias
# 0x10000000), data in the 512 KB DTCM (secure alias 0x30000000), the test driver's job
# in DDR (secure alias 0x70000000).
set(PERSONCLS_MCU_CPU_FLAGS -mcpu=cortex-m55 -mthumb -mfloat-abi=hard)
set(PERSONCLS_MCU_QEMU_MACHINE mps3-an547)
set(PERSONCLS_MCU_JOB_ADDR 0x70000000)
set(PERSONCLS_MCU_SYSTICK_HZ 32000000)
