@ MOVW/MOVT pairs (absolute and PC-relative) and PC-relative loads and address computations.
@ GAS resolves (or silently drops) ADR/LDR-literal fixups across sections, so `.reloc` states
@ each relocation; the instruction carries the REL addend.
    .syntax unified
    .thumb
    .text
    .align 2
    .global code
    .type code, %function
    .thumb_func
code:
    movw r0, #:lower16:value
    movt r0, #:upper16:value
    movw r1, #:lower16:value+0x1234
    movt r1, #:upper16:value+0x1234
    movw r2, #:lower16:fw_func
    movt r2, #:upper16:fw_func
    movw r3, #:lower16:helper       @ a Thumb function: bit 0 set
    movt r3, #:upper16:helper
    movw r4, #:lower16:value-8
    movt r4, #:upper16:value-8
    .reloc ., R_ARM_THM_MOVW_PREL_NC, value
    movw r5, #0xfffc                @ A = -4: value - (P + 4)
    .reloc ., R_ARM_THM_MOVT_PREL, value
    movt r5, #0xfffc
    .reloc ., R_ARM_THM_MOVW_PREL_NC, fw_func
    movw r6, #0x100
    .reloc ., R_ARM_THM_MOVT_PREL, fw_func
    movt r6, #0x100
    .reloc ., R_ARM_THM_PC8, value
    .inst.n 0xa0ff                  @ adr r0, value (A = -4)
    .reloc ., R_ARM_THM_PC8, value
    ldr r1, [pc, #1020]             @ ldr r1, value (A = -4)
    .reloc ., R_ARM_THM_PC12, value
    ldr.w r2, [pc, #-4]
    .reloc ., R_ARM_THM_PC12, value
    ldr.w r2, [pc, #4]              @ A = +4: value + 8 from Align(PC, 4)
    .reloc ., R_ARM_THM_PC12, value
    ldrb.w r3, [pc, #-4]
    .reloc ., R_ARM_THM_ALU_PREL_11_0, value
    subw r3, pc, #4                 @ adr.w r3, value
    .reloc ., R_ARM_THM_ALU_PREL_11_0, helper
    subw r4, pc, #4                 @ adr.w r4, helper (bit 0 set)
    bx lr
    .global helper
    .type helper, %function
    .thumb_func
helper:
    bx lr

    .section .rodata
    .align 2
    .global value
value:
    .word 1, 2, 3, 4
