@ PC-relative loads and ADR to a literal before the instruction (negative offsets: LDR.W with
@ U = 0, SUBW).
    .syntax unified
    .thumb
    .text
    .align 2
    .global lit
lit:
    .word 0x11223344
    .global back
    .type back, %function
    .thumb_func
back:
    nop
    .reloc ., R_ARM_THM_PC12, lit
    ldr.w r0, [pc, #-4]
    .reloc ., R_ARM_THM_ALU_PREL_11_0, lit
    subw r1, pc, #4
    .reloc ., R_ARM_THM_ALU_PREL_11_0, back
    subw r2, pc, #4                 @ a Thumb function behind: the result keeps bit 0
    bx lr
