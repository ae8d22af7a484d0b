/* Firmware far away: JAL-based calls (assemble with -mno-relax) to exports more than 1 MiB
 * away go through veneers, one per distinct target; a near one stays direct. Offsets are fixed:
 * the test relies on them. */
    .text
    .option norvc                   /* fixed offsets */
    .globl far_calls
far_calls:
    addi    sp, sp, -16             /*  0 */
    sw      ra, 12(sp)              /*  4 */
    jal     ra, fw_a                /*  8 */
    jal     ra, fw_b                /* 12 */
    jal     ra, fw_a                /* 16 */
    jal     ra, fw_near             /* 20 */
    lw      ra, 12(sp)              /* 24 */
    addi    sp, sp, 16              /* 28 */
    jal     x0, fw_b                /* 32: tail call */
