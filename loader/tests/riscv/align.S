/* Code alignment. With relaxation on gas pads `.balign 8` with the worst case of NOPs (6 bytes
 * with C) and an R_RISCV_ALIGN for ld to delete the excess: at offset 2 that is exactly right
 * (ALIGN_EXACT), at offset 6 it is 4 bytes too many. */
    .text
    .globl aligned
aligned:
    c.li    a0, 1
#ifndef ALIGN_EXACT
    c.li    a0, 2
    c.li    a0, 3
#endif
    .balign 8
    .globl aligned_target
aligned_target:
    li      a0, 4
    ret
