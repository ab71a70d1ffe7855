@ pcls_s8_dot4_mve: the inner product of the MVE convolution: 4 output channels (int8
@ weight rows, k = segments * span values each) dotted with one receptive field, in
@ tail-predicated low-overhead loops. Armv8.1-M with MVE (Cortex-M55/M85).
@
@ void pcls_s8_dot4_mve(const int8_t* x, int32_t pitch, int32_t span, int32_t segments,
@                       const int8_t* const rows[4], int32_t acc[4]);
@
@ The field is `segments` runs of `span` bytes, run i at x + i * pitch: one run for an
@ im2col buffer (pitch unused), or the k_h rows of taps read straight from the input.
@ acc receives the 4 sums. WLSTP/LETP predicate the lanes past a run's end in its last
@ iteration, so no byte past a run or a weight row is read. Per 16 taps: 5 VLDRB, 4
@ VMLADAVA (16 int8 products each into a 32-bit register), LETP: 10 instructions for 64
@ MACs. VMLADAVA accumulates only into even-numbered registers.
        .syntax unified
        .thumb
        .text
        .align  2
        .global pcls_s8_dot4_mve
        .type   pcls_s8_dot4_mve, %function
        .thumb_func
pcls_s8_dot4_mve:
        push    {r4-r11, lr}
        mov     r12, r0                 @ start of the next run
        mov     r11, r1                 @ pitch
        mov     r10, r2                 @ span
        mov     r9, r3                  @ runs left
        ldr     r1, [sp, #36]           @ rows (5th argument, above the 9 saved registers)
        ldm     r1, {r3, r5, r7, r8}    @ the 4 weight rows
        movs    r0, #0
        movs    r2, #0
        movs    r4, #0
        movs    r6, #0
3:      mov     r1, r12
        add     r12, r12, r11
        wlstp.8 lr, r10, 2f
1:      vldrb.8 q0, [r1], #16
        vldrb.8 q1, [r3], #16
        vmladava.s8 r0, q0, q1
        vldrb.8 q2, [r5], #16
        vmladava.s8 r2, q0, q2
        vldrb.8 q3, [r7], #16
        vmladava.s8 r4, q0, q3
        vldrb.8 q1, [r8], #16
        vmladava.s8 r6, q0, q1
        letp    lr, 1b
2:      subs    r9, r9, #1
        bne     3b
        ldr     r1, [sp, #40]           @ acc (6th argument)
        strd    r0, r2, [r1]
        strd    r4, r6, [r1, #8]
        pop     {r4-r11, pc}
        .size   pcls_s8_dot4_mve, .-pcls_s8_dot4_mve
