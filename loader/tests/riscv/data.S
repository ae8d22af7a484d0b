/* Label differences and SET relocations in data, assembled with relaxation on: the distances
 * span a relaxable call, so gas leaves them to the linker as ADD/SUB pairs. */
    .text
    .globl fn_a
fn_a:
1:  call    fw_puts
    addi    a0, a0, 1
2:  ret
3:

    .data
    .globl diffs
diffs:
    .byte   2b - 1b                 /* ADD8/SUB8 */
    .half   3b - 1b                 /* ADD16/SUB16 */
    .word   3b - 1b                 /* ADD32/SUB32 */
    .quad   3b - 1b                 /* ADD64/SUB64 */
    /* With relaxation on gas writes `sym - .` as ADD32/SUB32; 32_PCREL is what other
     * assemblers (and gas without relaxation) write. */
    .reloc  ., R_RISCV_32_PCREL, fw_puts
    .word   0                       /* 32_PCREL to an export */
    .reloc  ., R_RISCV_32_PCREL, fn_a + 2
    .word   0                       /* 32_PCREL to another section */
    .globl sets
sets:
    .reloc  ., R_RISCV_SET8, 2b
    .byte   0
    .reloc  ., R_RISCV_SET16, 3b
    .half   0
    .reloc  ., R_RISCV_SET32, 3b + 4
    .word   0
    .reloc  ., R_RISCV_SET6, 3b
    .reloc  ., R_RISCV_SUB6, 1b
    .byte   0xc0                    /* the top two bits stay */
    .globl uleb
uleb:                               /* the test turns these SET8/SUB8 into SET/SUB_ULEB128 */
    .reloc  ., R_RISCV_SET8, 3b
    .reloc  ., R_RISCV_SUB8, 1b
    .byte   0x80, 0x80, 0x00        /* a 3-byte ULEB128 */
    .byte   0x55
