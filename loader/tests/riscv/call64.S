/* RV64: a call and a tail call to an export more than 2 GiB away, through a veneer. */
    .text
    .option norvc                   /* fixed offsets */
    .globl far64
far64:
    addi    sp, sp, -16             /*  0 */
    sd      ra, 8(sp)               /*  4 */
    call    fw_far                  /*  8: auipc ra + jalr ra */
    ld      ra, 8(sp)               /* 16 */
    addi    sp, sp, 16              /* 20 */
    tail    fw_far                  /* 24: auipc t1 + jalr x0 */
