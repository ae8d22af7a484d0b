/* Every short jump and branch, forward then backward, to firmware symbols the test places at
 * exactly their maximum reach (or one past it). gas would turn a branch to a symbol it cannot
 * see into a long form, so the instructions are written out with their relocations. Offsets are
 * fixed: the test relies on them. */
    .text
    .globl reach
reach:
    .reloc  ., R_RISCV_JAL, fwd_jal
    .4byte  0x0000006f              /*  0: jal x0, . */
    .reloc  ., R_RISCV_BRANCH, fwd_branch
    .4byte  0x00b50063              /*  4: beq a0, a1, . */
    .reloc  ., R_RISCV_RVC_BRANCH, fwd_cbranch
    .2byte  0xc101                  /*  8: c.beqz a0, . */
    .reloc  ., R_RISCV_RVC_JUMP, fwd_cjump
    .2byte  0xa001                  /* 10: c.j . */
    .reloc  ., R_RISCV_JAL, back_jal
    .4byte  0x000000ef              /* 12: jal ra, . */
    .reloc  ., R_RISCV_BRANCH, back_branch
    .4byte  0x00b51063              /* 16: bne a0, a1, . */
    .reloc  ., R_RISCV_RVC_BRANCH, back_cbranch
    .2byte  0xe101                  /* 20: c.bnez a0, . */
    .reloc  ., R_RISCV_RVC_JUMP, back_cjump
    .2byte  0xa001                  /* 22: c.j . */
    ret                             /* 24 */
