/* PC-relative pairs that a link in place, a window at a time, must handle: `pack` puts each
 * %pcrel_lo right after its %pcrel_hi, so in address order one may lie far ahead of where its
 * entry comes (.text: 1.5 KiB ahead, past the 1 KiB window, with other relocations between) or
 * a little behind (.text.back: code laid out before its auipc). With FAR_BACK, .text.back's
 * %pcrel_lo lies 2 KiB behind its auipc: refused, with the advice to install without --xip. */
    .text
    .globl ahead
ahead:
.Lhi:
    auipc   a1, %pcrel_hi(val1)
    .rept 96
    auipc   a2, %pcrel_hi(tab)
    lw      a3, 4(a2)
    call    fw_add
    .endr
    sw      a3, %pcrel_lo(.Lhi)(a1)   /* PCREL_LO12_S 1.5 KiB after its PCREL_HI20 */
    ret

    .section .text.back, "ax", @progbits
    .globl back
back:
    j       2f
1:  addi    a0, a0, %pcrel_lo(.Lback)   /* PCREL_LO12_I before its PCREL_HI20 */
    ret
#ifdef FAR_BACK
    .rept 512
    nop
    .endr
#else
    .rept 32
    nop
    .endr
#endif
2:
    .rept 8
    call    fw_add
    .endr
.Lback:
    auipc   a0, %pcrel_hi(val0)
    j       1b

    .data
val0:   .word 1
val1:   .word 2
tab:    .space 96
