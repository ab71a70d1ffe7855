@ pcls_s8_dot2x2_dsp: the inner product of the DSP convolution and fully-connected
@ kernels, hand-scheduled because it needs all 14 usable registers (C leaves GCC
@ spilling). Armv7E-M / Armv8-M Mainline with the DSP extension.
@
@ void pcls_s8_dot2x2_dsp(const int8_t* w0, const int8_t* w1, const int32_t* col,
@                         const int32_t* col_end, int32_t acc[4]);
@
@ Two output channels (int8 weight rows w0, w1) times two pixels (col: for each group of
@ 4 taps, pixel 0's int16 pairs (x0,x2),(x1,x3) then pixel 1's, 16 bytes per group) over
@ (col_end - col) / 16 groups. acc = {ch0 px0, ch0 px1, ch1 px0, ch1 px1}, accumulated in
@ place. Per group: LDM of the 4 pairs, one LDR per channel split by SXTB16 into (w0,w2)
@ and (w1,w3), 8 SMLAD: 15 instructions for 16 multiply-accumulates.
        .syntax unified
        .thumb
        .text

@ One group: 4 taps of 2 channels times 2 pixels (15 instructions, 16 MACs).
        .macro  GROUP
        ldm     r2!, {r4-r7}            @ pixel 0: (x0,x2) (x1,x3); pixel 1: the same
        ldr     ip, [r0], #4            @ channel 0: w0..w3
        sxtb16  lr, ip, ror #8          @ (w1, w3)
        sxtb16  ip, ip                  @ (w0, w2)
        smlad   r8, ip, r4, r8
        smlad   r8, lr, r5, r8
        smlad   r9, ip, r6, r9
        smlad   r9, lr, r7, r9
        ldr     ip, [r1], #4            @ channel 1
        sxtb16  lr, ip, ror #8
        sxtb16  ip, ip
        smlad   r10, ip, r4, r10
        smlad   r10, lr, r5, r10
        smlad   r11, ip, r6, r11
        smlad   r11, lr, r7, r11
        .endm

        .align  2
        .global pcls_s8_dot2x2_dsp
        .type   pcls_s8_dot2x2_dsp, %function
        .thumb_func
pcls_s8_dot2x2_dsp:
        push    {r4-r11, lr}
        ldr     ip, [sp, #36]           @ acc (5th argument, above the 9 saved registers)
        ldm     ip, {r8-r11}
        subs    lr, r3, r2
        tst     lr, #16                 @ odd number of groups: do one first
        beq     2f
        GROUP
2:      cmp     r2, r3
        beq     3f
1:      GROUP                           @ two groups per iteration
        GROUP
        cmp     r2, r3
        bne     1b
3:      ldr     ip, [sp, #36]
        stm     ip, {r8-r11}
        pop     {r4-r11, pc}
        .size   pcls_s8_dot2x2_dsp, .-pcls_s8_dot2x2_dsp
