/* PC-relative pairs far apart in relocation order: in .text a %pcrel_lo before its %pcrel_hi
 * (code laid out of order), which the loader pairs as it streams; in .text.far (left out with
 * NEAR_ONLY) one after more %pcrel_hi than the loader remembers, which needs `pack`. */
    .text
    .globl hilo
hilo:
    j       2f
1:  addi    a0, a0, %pcrel_lo(.Lback)   /* PCREL_LO12_I before its PCREL_HI20 */
    ret
2:
.Lback:
    auipc   a0, %pcrel_hi(val0)
    j       1b
#ifndef NEAR_ONLY
    .section .text.far, "ax", @progbits
    .globl hilo_far
hilo_far:
.Lfirst:
    auipc   a1, %pcrel_hi(val1)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
.Lp\n:
    auipc   a2, %pcrel_hi(tab + \n * 4)
    lw      a3, %pcrel_lo(.Lp\n)(a2)
    .endr
    sw      a3, %pcrel_lo(.Lfirst)(a1)   /* PCREL_LO12_S, 24 PCREL_HI20 after its own */
    ret
#endif

    .data
val0:   .word 1
val1:   .word 2
tab:    .space 96
